"""What a BeyondTrust certificate-action scenario on the scratch appliance holds, its Background,
and the refusals several scenarios expect.

Each scenario starts from the site's scratch appliance in its factory state
(`accord.beyondtrust.scratch`) and a throwaway test CA (`accord.pki`), does what an
administrator does in /appliance > Security > Certificates through the simulator's certificate
API, and checks the answer against the guide: the table's rows, the files handed out, and what
the appliance's TLS listener serves (`accord.beyondtrust.probes`). `BtAct` is what it did and
saw (`steps.scratch.ScratchAct`, the shape the Pexip scenarios share). A real appliance has no
certificate API: on a live site these scenarios are reported not run (`steps.scratch`). Nothing
here touches a verified appliance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from cryptography import x509
from pytest_bdd import given, parsers, then

from accord.beyondtrust.client import (
    BeyondTrustApiError,
    Certificate,
    CertificateForm,
    CertificateRequest,
)
from accord.beyondtrust.probes import ServedCertificate, served
from accord.beyondtrust.scratch import NoScratchAppliance, ScratchAppliance
from accord.pki import CA, fingerprint_sha256
from accord.site import Secret
from accord.systems import Systems
from steps.common import Observe
from steps.scratch import ScratchAct, scratch_only

T = TypeVar("T")
KEY_SIZE = 2048
# The guide's example Subject Name (Create the Certificate Signing Request), with the full
# state name it asks for; the common name is a human-readable label, as it recommends.
EXAMPLE_SUBJECT = {
    "country": "US",
    "state": "Mississippi",
    "city": "Ridgeland",
    "organization": "Business Company",
    "unit": "Support",
    "common_name": "Accord scratch certificate",
}


@dataclass
class BtAct(ScratchAct[ScratchAppliance]):
    """What one scenario on the scratch appliance did and saw: the form it filled in, what it
    created or requested, the appliance's last refusal and the table before it, the
    certificate it is about (``cert``), the site certificate before and after (``old``,
    ``new``), another CA, the file handed out, and the passphrase its files use."""

    form: CertificateForm | None = None
    created: Certificate | None = None
    request: CertificateRequest | None = None
    error: BeyondTrustApiError | None = None
    before: list[Certificate] = field(default_factory=list)
    cert: x509.Certificate | None = None  # the certificate the scenario is about
    old: Certificate | None = None
    new: Certificate | None = None
    other_ca: CA | None = None
    file: tuple[str, bytes] | None = None
    passphrase: Secret = field(default_factory=lambda: Secret("Accord-scenario-passphrase-7"))

    @property
    def name(self) -> str:
        return self.scratch.name

    def rows(self) -> list[Certificate]:
        """Security :: Certificates, as listed now."""
        return self.scratch.client.certificates(self.name)

    def row(self, cert: x509.Certificate) -> Certificate:
        """The row holding ``cert``; fails the step when none does."""
        wanted = fingerprint_sha256(cert)
        for row in self.rows():
            if row.fingerprint == wanted:
                return row
        raise AssertionError(f"Security :: Certificates does not list {subject_of(cert)}")

    def attempt(self, what: str, action: Callable[[], T]) -> T | None:
        """Perform ``action``, keeping the table before it; a refusal is kept, not raised."""
        self.before = self.rows()
        self.error = None
        try:
            result = action()
        except BeyondTrustApiError as error:
            self.error = error
            self.observe(
                what, {"refused": error.status, "field": error.field, "message": str(error)}
            )
            return None
        self.observe(what, "accepted")
        return result

    def import_file(
        self, what: str, data: bytes, filename: str, password: Secret | None = None
    ) -> None:
        """Import ``data`` as the file ``filename`` (`attempt`: a refusal is kept)."""
        self.attempt(
            what,
            lambda: self.scratch.client.import_file(self.name, data, password, filename=filename),
        )

    def served(self, server_name: str | None) -> ServedCertificate:
        """What the scratch appliance's listener serves to a client sending ``server_name``."""
        result = served(self.scratch.endpoint, server_name, None)
        self.observe(f"served to {server_name or 'no SNI'}", result.observation())
        assert result.ok, f"the scratch appliance served nothing: {result.error}"
        return result


def subject_of(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def certificate_form(**changes: Any) -> CertificateForm:
    """The guide's example form (`EXAMPLE_SUBJECT`), with ``changes``."""
    values: dict[str, Any] = {
        "friendly_name": "Accord scratch certificate",
        "key_size": KEY_SIZE,
        **EXAMPLE_SUBJECT,
        "alternative_names": ("support.example.org", "*.example.org"),
    }
    values.update(changes)
    return CertificateForm(**values)


def names(first: str, second: str) -> tuple[str, ...]:
    return (first, second)


@pytest.fixture
def scratch_appliance(systems: Systems) -> Iterator[ScratchAppliance]:
    """The site's scratch appliance (`steps.scratch`: never a verified appliance, nor where the
    target refuses actions)."""
    with scratch_only(systems, NoScratchAppliance):
        scratch = ScratchAppliance.for_site(systems.site)
    try:
        yield scratch
    finally:
        scratch.close()


@given("a factory-fresh scratch appliance", target_fixture="bt_act")
def factory_fresh(scratch_appliance: ScratchAppliance, observe: Observe) -> BtAct:
    """The site's scratch appliance back to its factory state (never a verified appliance)."""
    scratch_appliance.factory_reset()
    observe(
        "scratch appliance", {"name": scratch_appliance.name, "at": str(scratch_appliance.endpoint)}
    )
    return BtAct(scratch_appliance, observe)


@given("a throwaway test certificate authority")
def test_ca(bt_act: BtAct) -> None:
    """A throwaway root and issuing CA, made for this scenario only."""
    bt_act.ca_ = CA.new("Accord Scenario Root").issue_intermediate("Accord Scenario Issuing CA")


@given("another certificate authority")
def other_ca(bt_act: BtAct) -> None:
    bt_act.other_ca = CA.new("Accord Other Root").issue_intermediate("Accord Other Issuing CA")


@given("the scratch appliance is part of a cloud site")
def cloud_site(bt_act: BtAct) -> None:
    bt_act.scratch.factory_reset(cloud=True)


# --- refusals and the table ------------------------------------------------------------------


@then(parsers.parse('the appliance refuses: "{message}"'))
def refused_with(bt_act: BtAct, message: str) -> None:
    assert bt_act.error is not None, "the appliance accepted it"
    assert bt_act.error.message == message, f"refused with {bt_act.error.message!r}"


@then(parsers.parse('the appliance refuses the field "{name}"'))
def refused_field(bt_act: BtAct, name: str) -> None:
    assert bt_act.error is not None, "the appliance accepted it"
    assert bt_act.error.status == 400, f"refused with {bt_act.error.status}, not 400"
    assert bt_act.error.field == name, f"the refusal names {bt_act.error.field!r}, not {name!r}"


@then("no certificate was added")
def nothing_added(bt_act: BtAct) -> None:
    after = [r.fingerprint for r in bt_act.rows()]
    assert after == [r.fingerprint for r in bt_act.before], "Security :: Certificates changed"


@then("the import is refused and nothing was added")
def import_refused(bt_act: BtAct) -> None:
    assert bt_act.error is not None, "the appliance accepted the file"
    assert bt_act.error.status in (400, 409), f"refused with {bt_act.error.status}"
    nothing_added(bt_act)
    assert not bt_act.scratch.client.requests(bt_act.name) or bt_act.request is not None
