"""Steps for the BeyondTrust guide's certificate actions, performed on the scratch appliance.

Each scenario starts from the site's scratch appliance in its factory state
(`accord.beyondtrust.scratch`) and a throwaway test CA (`accord.pki`), does what an
administrator does in /appliance > Security > Certificates through the simulator's certificate
API, and checks the answer against the guide: the table's rows, the files handed out, and what
the appliance's TLS listener serves (`accord.beyondtrust.probes`). A real appliance has no
certificate API: on a live site these scenarios are reported not run. Nothing here touches a
verified appliance.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pytest_bdd import given, parsers, then, when

from accord.beyondtrust.client import (
    BeyondTrustApiError,
    Certificate,
    CertificateForm,
    CertificateRequest,
)
from accord.beyondtrust.probes import ServedCertificate, served
from accord.beyondtrust.scratch import NoScratchAppliance, ScratchAppliance
from accord.pki import (
    CA,
    LeafCert,
    PkiError,
    certificate_to_der,
    fingerprint_sha256,
    from_pkcs7,
    from_pkcs12,
    key_matches,
    load_csr,
    private_key_pem,
    public_key_info,
    san_names,
    to_pem,
    to_pkcs7,
    to_pkcs12,
)
from accord.site import Secret
from accord.systems import Systems
from steps.common import Observe
from steps.scratch import scratch_only

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
PRIVATE_KEY_FILES = (".p12", ".pfx", ".key")


@dataclass
class BtAct:
    """What one scenario on the scratch appliance did and saw."""

    scratch: ScratchAppliance
    observe: Observe
    ca_: CA | None = None  # set by "a throwaway test certificate authority"
    form: CertificateForm | None = None
    created: Certificate | None = None
    request: CertificateRequest | None = None
    error: BeyondTrustApiError | None = None
    before: list[Certificate] = field(default_factory=list)
    leaf: LeafCert | None = None  # a certificate the scenario holds the key of
    cert: x509.Certificate | None = None  # the certificate the scenario is about
    old: Certificate | None = None
    new: Certificate | None = None
    other_ca: CA | None = None
    file: tuple[str, bytes] | None = None
    passphrase: Secret = field(default_factory=lambda: Secret("Accord-scenario-passphrase-7"))

    @property
    def name(self) -> str:
        return self.scratch.name

    @property
    def ca(self) -> CA:
        """The scenario's issuing CA (the Background makes it)."""
        assert self.ca_ is not None, "the scenario has no test certificate authority"
        return self.ca_

    def rows(self) -> list[Certificate]:
        """Security :: Certificates, as listed now."""
        return self.scratch.client.certificates(self.name)

    def row(self, cert: x509.Certificate) -> Certificate:
        """The row holding ``cert``; fails the step when none does."""
        wanted = fingerprint_sha256(cert)
        for row in self.rows():
            if row.fingerprint == wanted:
                return row
        raise AssertionError(f"Security :: Certificates does not list {_subject(cert)}")

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

    def served(self, server_name: str | None) -> ServedCertificate:
        """What the scratch appliance's listener serves to a client sending ``server_name``."""
        result = served(self.scratch.endpoint, server_name, None)
        self.observe(f"served to {server_name or 'no SNI'}", result.observation())
        assert result.ok, f"the scratch appliance served nothing: {result.error}"
        return result


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _form(**changes: Any) -> CertificateForm:
    values: dict[str, Any] = {
        "friendly_name": "Accord scratch certificate",
        "key_size": KEY_SIZE,
        **EXAMPLE_SUBJECT,
        "alternative_names": ("support.example.org", "*.example.org"),
    }
    values.update(changes)
    return CertificateForm(**values)


def _names(first: str, second: str) -> tuple[str, ...]:
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


# --- BT-01: the factory certificate ----------------------------------------------------------


def _factory(bt_act: BtAct) -> Certificate | None:
    return next((r for r in bt_act.rows() if r.factory), None)


@then('Security :: Certificates lists the "BeyondTrust Appliance" certificate with a warning')
def factory_listed(bt_act: BtAct) -> None:
    row = _factory(bt_act)
    assert row is not None, "no factory certificate is listed"
    bt_act.observe(
        "factory certificate", {"friendly_name": row.friendly_name, "warnings": row.warnings}
    )
    assert row.friendly_name == "BeyondTrust Appliance", f"it is named {row.friendly_name!r}"
    assert row.warnings, "it shows no warning"


@given("a self-signed certificate is the default")
def self_signed_default(bt_act: BtAct) -> None:
    client = bt_act.scratch.client
    row = client.create_self_signed(bt_act.name, _form())
    client.set_default(bt_act.name, row.id)


@when('the "BeyondTrust Appliance" certificate is deleted')
def delete_factory(bt_act: BtAct) -> None:
    row = _factory(bt_act)
    assert row is not None, "no factory certificate is listed"
    bt_act.attempt(
        "delete the factory certificate", lambda: bt_act.scratch.client.delete(bt_act.name, row.id)
    )


@then('Security :: Certificates still lists the "BeyondTrust Appliance" certificate')
def factory_still_listed(bt_act: BtAct) -> None:
    assert _factory(bt_act) is not None, "the factory certificate was removed"


# --- BT-02: self-signed ----------------------------------------------------------------------


def _create_self_signed(bt_act: BtAct, form: CertificateForm) -> None:
    bt_act.form = form
    bt_act.created = bt_act.attempt(
        "create a self-signed certificate",
        lambda: bt_act.scratch.client.create_self_signed(bt_act.name, form),
    )


@when(
    parsers.parse(
        "a self-signed certificate is created with the guide's example subject name and the "
        'alternative names "{first}" and "{second}"'
    )
)
def create_example(bt_act: BtAct, first: str, second: str) -> None:
    _create_self_signed(bt_act, _form(alternative_names=_names(first, second)))


@when(parsers.parse('a self-signed certificate is created with the country "{country}"'))
def create_country(bt_act: BtAct, country: str) -> None:
    _create_self_signed(bt_act, _form(country=country))


@when(
    parsers.parse(
        'a self-signed certificate is created with the common name "{common_name}" and the '
        'alternative names "{first}" and "{second}"'
    )
)
def create_fqdn_cn(bt_act: BtAct, common_name: str, first: str, second: str) -> None:
    _create_self_signed(
        bt_act, _form(common_name=common_name, alternative_names=_names(first, second))
    )


@then("Security :: Certificates lists it under its friendly name, issued to and by its common name")
def created_listed(bt_act: BtAct) -> None:
    assert bt_act.created is not None, f"it was refused: {bt_act.error}"
    assert bt_act.form is not None
    row = bt_act.row(bt_act.created.certificate)
    bt_act.observe(
        "listed",
        {
            "friendly_name": row.friendly_name,
            "issued_to": row.issued_to,
            "issued_by": row.issued_by,
        },
    )
    assert row.friendly_name == bt_act.form.friendly_name
    assert row.issued_to == row.issued_by == bt_act.form.common_name


@then(
    "its subject name holds the country, state, city, organization, organizational unit and "
    "common name entered"
)
def created_subject(bt_act: BtAct) -> None:
    assert bt_act.created is not None and bt_act.form is not None
    subject = bt_act.created.certificate.subject
    wanted = {
        x509.NameOID.COUNTRY_NAME: bt_act.form.country,
        x509.NameOID.STATE_OR_PROVINCE_NAME: bt_act.form.state,
        x509.NameOID.LOCALITY_NAME: bt_act.form.city,
        x509.NameOID.ORGANIZATION_NAME: bt_act.form.organization,
        x509.NameOID.ORGANIZATIONAL_UNIT_NAME: bt_act.form.unit,
        x509.NameOID.COMMON_NAME: bt_act.form.common_name,
    }
    for oid, value in wanted.items():
        got = [str(a.value) for a in subject.get_attributes_for_oid(oid)]
        assert got == [value], f"{oid._name}: {got} in {subject.rfc4514_string()}, not {value!r}"


@then("its key is the size chosen")
def created_key_size(bt_act: BtAct) -> None:
    assert bt_act.created is not None
    kind, bits = public_key_info(bt_act.created.certificate)
    assert (kind, bits) == ("RSA", KEY_SIZE), f"its key is {kind} {bits}"


@then(parsers.parse('its alternative names are "{first}" and "{second}", the wildcard included'))
def created_sans(bt_act: BtAct, first: str, second: str) -> None:
    assert bt_act.created is not None
    assert san_names(bt_act.created.certificate) == [first, second]
    assert list(bt_act.created.alternative_names) == [first, second]


@then("it has a private key")
def created_has_key(bt_act: BtAct) -> None:
    assert bt_act.created is not None
    assert bt_act.row(bt_act.created.certificate).private_key, '"Private Key?" is No'


# --- BT-03: certificate request --------------------------------------------------------------


@when(
    parsers.parse(
        "a certificate request is created with the guide's example subject name and the "
        'alternative names "{first}" and "{second}"'
    )
)
def create_request(bt_act: BtAct, first: str, second: str) -> None:
    bt_act.form = _form(friendly_name="Accord request", alternative_names=_names(first, second))
    form = bt_act.form
    bt_act.request = bt_act.attempt(
        "create a certificate request",
        lambda: bt_act.scratch.client.create_request(bt_act.name, form),
    )


@then("the certificate requests list it with its subject, its alternative names and a fingerprint")
def request_listed(bt_act: BtAct) -> None:
    assert bt_act.request is not None, f"it was refused: {bt_act.error}"
    assert bt_act.form is not None
    listed = [r for r in bt_act.scratch.client.requests(bt_act.name) if r.id == bt_act.request.id]
    assert listed, "the certificate requests do not list it"
    row = listed[0]
    bt_act.observe(
        "request",
        {"subject": row.subject, "names": row.alternative_names, "fingerprint": row.fingerprint},
    )
    assert f"CN={bt_act.form.common_name}" in row.subject, row.subject
    assert list(row.alternative_names) == list(bt_act.form.alternative_names)
    assert row.fingerprint, "it shows no fingerprint"


@then("its request data is a PEM certificate request for that subject and those alternative names")
def request_pem(bt_act: BtAct) -> None:
    assert bt_act.request is not None and bt_act.form is not None
    data = bt_act.request.request_data
    assert data.lstrip().startswith("-----BEGIN CERTIFICATE REQUEST-----"), "not PEM"
    csr = load_csr(data)
    assert csr.is_signature_valid, "its signature does not verify"
    cn = [str(a.value) for a in csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    assert cn == [bt_act.form.common_name], f"it requests {csr.subject.rfc4514_string()}"
    assert san_names(csr) == list(bt_act.form.alternative_names)


@then("the request data holds no private key")
def request_no_key(bt_act: BtAct) -> None:
    assert bt_act.request is not None
    data = bt_act.request.request_data
    assert "PRIVATE KEY" not in data, "the request data carries a private key"
    assert data.count("-----BEGIN ") == 1, "the request data holds more than the request"


# --- BT-04: import ---------------------------------------------------------------------------


@given("a server certificate issued by the test certificate authority")
def server_certificate(bt_act: BtAct) -> None:
    bt_act.leaf = bt_act.ca.issue_cert("support.example.org", "*.example.org", key_type="rsa")
    bt_act.cert = bt_act.leaf.cert


def _import(
    bt_act: BtAct, what: str, data: bytes, filename: str, password: Secret | None = None
) -> None:
    bt_act.attempt(
        what,
        lambda: bt_act.scratch.client.import_file(bt_act.name, data, password, filename=filename),
    )


_ENCODINGS: dict[str, Callable[[LeafCert], bytes]] = {
    "DER-encoded X.509": lambda leaf: certificate_to_der(leaf.cert),
    "PEM-wrapped DER-encoded X.509": lambda leaf: leaf.cert_pem.encode("ascii"),
    "DER-encoded PKCS #7": lambda leaf: to_pkcs7([leaf.cert], encoding="der"),
}


@when(parsers.parse('it is imported as the file "{filename}" in {encoding}'))
def import_as(bt_act: BtAct, filename: str, encoding: str) -> None:
    assert bt_act.leaf is not None
    _import(bt_act, f"import {filename}", _ENCODINGS[encoding](bt_act.leaf), filename)
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@then("Security :: Certificates lists it, without a private key")
def listed_without_key(bt_act: BtAct) -> None:
    assert bt_act.cert is not None
    assert not bt_act.row(bt_act.cert).private_key, '"Private Key?" is Yes'


@then("Security :: Certificates lists it, with a private key")
def listed_with_key(bt_act: BtAct) -> None:
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"
    assert bt_act.cert is not None
    assert bt_act.row(bt_act.cert).private_key, '"Private Key?" is No'


def _pkcs12(bt_act: BtAct) -> bytes:
    leaf = bt_act.leaf
    assert leaf is not None
    chain = [*leaf.chain[1:], leaf.root]
    return to_pkcs12(leaf.key, leaf.cert, chain, passphrase=bt_act.passphrase.reveal())


@when("its PKCS#12 file with its private key and chain is imported with a wrong password")
def import_p12_wrong(bt_act: BtAct) -> None:
    _import(
        bt_act, "import PKCS#12, wrong password", _pkcs12(bt_act), "server.p12", Secret("wrong")
    )


@when("its PKCS#12 file with its private key and chain is imported with its password")
def import_p12(bt_act: BtAct) -> None:
    _import(bt_act, "import PKCS#12", _pkcs12(bt_act), "server.p12", bt_act.passphrase)


@then("Security :: Certificates lists its intermediate and root certificates")
def chain_listed(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    for cert in (*bt_act.leaf.chain[1:], bt_act.leaf.root):
        bt_act.row(cert)


_NOT_CERTIFICATES: dict[str, Callable[[BtAct], tuple[bytes, str]]] = {
    "a file of garbage": lambda _act: (b"this is not a certificate\x00\xff" * 8, "garbage.crt"),
    "a truncated DER certificate": lambda act: (
        certificate_to_der(act.ca.issue_cert("support.example.org").cert)[:200],
        "truncated.der",
    ),
    "a private key without its certificate": lambda act: (
        private_key_pem(act.ca.issue_cert("support.example.org").key).encode("ascii"),
        "server.key",
    ),
}


@when(
    parsers.re(
        r"(?P<what>a file of garbage|a truncated DER certificate"
        r"|a private key without its certificate) is imported"
    )
)
def import_not_certificate(bt_act: BtAct, what: str) -> None:
    data, filename = _NOT_CERTIFICATES[what](bt_act)
    _import(bt_act, f"import {what}", data, filename)


@given(parsers.parse('a certificate request created on the appliance for "{hostname}"'))
def request_for(bt_act: BtAct, hostname: str) -> None:
    form = _form(friendly_name="Accord request", alternative_names=(hostname,))
    bt_act.request = bt_act.scratch.client.create_request(bt_act.name, form)


@when("the certificate authority signs the request data and the signed certificate is imported")
def sign_and_import(bt_act: BtAct) -> None:
    assert bt_act.request is not None
    cert = bt_act.ca.sign_csr(bt_act.request.request_data)
    bt_act.cert = cert
    for index, item in enumerate((cert, *bt_act.ca.path)):
        _import(bt_act, f"import {_subject(item)}", to_pem(item).encode("ascii"), f"c{index}.crt")
        assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@then("the certificate request is no longer pending")
def request_gone(bt_act: BtAct) -> None:
    assert bt_act.request is not None
    pending = [r.id for r in bt_act.scratch.client.requests(bt_act.name)]
    assert bt_act.request.id not in pending, "the certificate request is still pending"


@then("it can be made the default")
def can_be_default(bt_act: BtAct) -> None:
    assert bt_act.cert is not None
    row = bt_act.row(bt_act.cert)
    made = bt_act.attempt(
        "make it the default", lambda: bt_act.scratch.client.set_default(bt_act.name, row.id)
    )
    assert made is not None and made.default, f"it cannot be made the default: {bt_act.error}"
    assert bt_act.served(None).fingerprint == row.fingerprint, "the default is not served"


# --- BT-05: chain warnings -------------------------------------------------------------------


@when("only the server certificate is imported")
def import_server_only(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    _import(bt_act, "import the server certificate", bt_act.leaf.cert_pem.encode(), "server.crt")


@when("the intermediate certificate is imported")
def import_intermediate(bt_act: BtAct) -> None:
    _import(bt_act, "import the intermediate", bt_act.ca.cert_pem.encode(), "intermediate.crt")


@when("the root certificate is imported")
def import_root(bt_act: BtAct) -> None:
    _import(bt_act, "import the root", to_pem(bt_act.ca.root).encode(), "root.crt")


@then("it shows a warning beneath its name")
def shows_warning(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    row = bt_act.row(bt_act.leaf.cert)
    bt_act.observe("warnings", row.warnings)
    assert row.warnings, "it shows no warning"


@then("it shows no warning")
def shows_no_warning(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    row = bt_act.row(bt_act.leaf.cert)
    assert not row.warnings, f"it shows {row.warnings}"


@then("the intermediate certificate is told apart: Issued To differs from Issued By")
def intermediate_told_apart(bt_act: BtAct) -> None:
    row = bt_act.row(bt_act.ca.cert)
    assert row.issued_to != row.issued_by, f"Issued To and Issued By are both {row.issued_to!r}"
    assert row.kind == "intermediate", f"it is listed as {row.kind}"


@then("the root certificate is told apart: Issued To equals Issued By")
def root_told_apart(bt_act: BtAct) -> None:
    row = bt_act.row(bt_act.ca.root)
    assert row.issued_to == row.issued_by, f"Issued To {row.issued_to!r}, By {row.issued_by!r}"
    assert row.kind == "root", f"it is listed as {row.kind}"


@then("the server certificate is told apart from both")
def server_told_apart(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    row = bt_act.row(bt_act.leaf.cert)
    assert row.kind == "server", f"it is listed as {row.kind}"


# --- BT-06: export ---------------------------------------------------------------------------


@given("a server certificate with its private key and chain on the appliance")
def held_with_chain(bt_act: BtAct) -> None:
    server_certificate(bt_act)
    import_p12(bt_act)
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@given("it is the default")
def it_is_default(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    bt_act.scratch.client.set_default(bt_act.name, bt_act.row(bt_act.leaf.cert).id)


def _export(bt_act: BtAct, what: str, ids: list[int], **options: Any) -> None:
    options.setdefault("passphrase", None)
    exported = bt_act.attempt(
        what, lambda: bt_act.scratch.client.export(bt_act.name, ids, **options)
    )
    assert exported is not None, f"the export was refused: {bt_act.error}"
    bt_act.file = exported
    bt_act.observe(what, {"filename": exported[0], "bytes": len(exported[1])})


def _leaf_row(bt_act: BtAct) -> Certificate:
    assert bt_act.leaf is not None
    return bt_act.row(bt_act.leaf.cert)


@when("the certificate alone is exported")
def export_der(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act, "export the certificate", [row.id], include_private_key=False, include_chain=False
    )


@then("the file is DER holding just the server certificate")
def file_der(bt_act: BtAct) -> None:
    assert bt_act.file is not None and bt_act.leaf is not None
    cert = x509.load_der_x509_certificate(bt_act.file[1])
    assert cert == bt_act.leaf.cert, "the file holds another certificate"


@when("the private key alone is exported with a passphrase")
def export_key(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act,
        "export the private key",
        [row.id],
        include_certificate=False,
        include_private_key=True,
        include_chain=False,
        passphrase=bt_act.passphrase,
    )


def _load_key(data: bytes, password: bytes | None) -> PrivateKeyTypes:
    try:
        return serialization.load_der_private_key(data, password)
    except ValueError:
        return serialization.load_pem_private_key(data, password)


def _opens(load: Callable[[], object]) -> bool:
    try:
        load()
    except (ValueError, TypeError, PkiError):
        return False
    return True


@then(
    "the file is a PKCS#8 private key that opens only with the passphrase and pairs with the "
    "certificate"
)
def file_pkcs8(bt_act: BtAct) -> None:
    assert bt_act.file is not None and bt_act.leaf is not None
    data, secret = bt_act.file[1], bt_act.passphrase.reveal().encode()
    assert not _opens(lambda: _load_key(data, None)), "the key opens without the passphrase"
    assert not _opens(lambda: _load_key(data, b"not-the-passphrase")), "a wrong one opens it"
    key = _load_key(data, secret)
    assert key_matches(bt_act.leaf.cert, key), "the key does not pair with the certificate"


@when("the certificate and its chain are exported together")
def export_pkcs7(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act, "export with the chain", [row.id], include_private_key=False, include_chain=True
    )


def _chain(bt_act: BtAct) -> list[x509.Certificate]:
    assert bt_act.leaf is not None
    return [bt_act.leaf.cert, *bt_act.leaf.chain[1:], bt_act.leaf.root]


@then("the file is PKCS#7 holding the server, intermediate and root certificates")
def file_pkcs7(bt_act: BtAct) -> None:
    assert bt_act.file is not None
    held = from_pkcs7(bt_act.file[1])
    assert sorted(map(fingerprint_sha256, held)) == sorted(map(fingerprint_sha256, _chain(bt_act)))


@when("the certificate is exported with its private key and chain and a passphrase")
def export_pkcs12(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act,
        "export with the private key",
        [row.id],
        include_private_key=True,
        include_chain=True,
        passphrase=bt_act.passphrase,
    )


@then(
    "the file is PKCS#12 that opens only with the passphrase, holding the certificate, its "
    "private key and its chain"
)
def file_pkcs12(bt_act: BtAct) -> None:
    assert bt_act.file is not None and bt_act.leaf is not None
    data = bt_act.file[1]
    assert not _opens(lambda: from_pkcs12(data, None)), "the PKCS#12 file opens without it"
    assert not _opens(lambda: from_pkcs12(data, "not-the-passphrase")), "a wrong one opens it"
    p12 = from_pkcs12(data, bt_act.passphrase.reveal())
    assert p12.cert == bt_act.leaf.cert, "it holds another certificate"
    assert p12.key is not None and key_matches(bt_act.leaf.cert, p12.key), "no matching key"
    wanted = sorted(map(fingerprint_sha256, _chain(bt_act)[1:]))
    assert sorted(map(fingerprint_sha256, p12.chain)) == wanted, "its chain is not complete"


# --- BT-07: support bundle -------------------------------------------------------------------


@when("the bundle for BeyondTrust Technical Support is prepared")
def support_bundle(bt_act: BtAct) -> None:
    bundle = bt_act.attempt(
        "prepare the support bundle", lambda: bt_act.scratch.client.support_bundle(bt_act.name)
    )
    assert bundle is not None, f"it was refused: {bt_act.error}"
    bt_act.file = bundle


def _bundle(bt_act: BtAct) -> dict[str, bytes]:
    assert bt_act.file is not None
    with zipfile.ZipFile(io.BytesIO(bt_act.file[1])) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    bt_act.observe("support bundle", sorted(files))
    return files


@then("the .zip archive holds the server, intermediate and root certificates")
def bundle_chain(bt_act: BtAct) -> None:
    found: set[str] = set()
    for data in _bundle(bt_act).values():
        if b"-----BEGIN CERTIFICATE-----" in data:
            found |= {fingerprint_sha256(c) for c in x509.load_pem_x509_certificates(data)}
    missing = [_subject(c) for c in _chain(bt_act) if fingerprint_sha256(c) not in found]
    assert not missing, f"the bundle lacks {missing}"


@then("it holds no private key file (.p12, .pfx or .key) and no private key in any file")
def bundle_no_key(bt_act: BtAct) -> None:
    files = _bundle(bt_act)
    named = [n for n in files if n.lower().endswith(PRIVATE_KEY_FILES)]
    assert not named, f"the bundle holds private key files: {named}"
    carrying = [n for n, data in files.items() if b"PRIVATE KEY" in data]
    assert not carrying, f"these files carry a private key: {carrying}"


# --- BT-12 and BT-13: renewal and replacement ------------------------------------------------


def _install(bt_act: BtAct, leaf: LeafCert, label: str) -> Certificate:
    data = to_pkcs12(
        leaf.key, leaf.cert, [*leaf.chain[1:], leaf.root], passphrase=bt_act.passphrase.reveal()
    )
    _import(bt_act, f"import the {label} certificate", data, f"{label}.p12", bt_act.passphrase)
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"
    return bt_act.row(leaf.cert)


@given(
    parsers.parse('the site certificate for "{hostname}" is the default, expiring in {days:d} days')
)
def site_certificate_default(bt_act: BtAct, hostname: str, days: int) -> None:
    leaf = bt_act.ca.issue_cert(hostname, days=days, key_type="rsa")
    row = _install(bt_act, leaf, "current")
    bt_act.scratch.client.set_default(bt_act.name, row.id)
    bt_act.old = row


@when(parsers.parse('the renewed certificate for "{hostname}", expiring in a year, is imported'))
def import_renewed(bt_act: BtAct, hostname: str) -> None:
    leaf = bt_act.ca.issue_cert(hostname, days=365, key_type="rsa")
    bt_act.leaf = leaf
    bt_act.new = _install(bt_act, leaf, "renewed")


@then("Security :: Certificates lists both, the renewed one with the later expiration")
def both_listed(bt_act: BtAct) -> None:
    assert bt_act.old is not None and bt_act.new is not None
    rows = {r.fingerprint: r for r in bt_act.rows()}
    bt_act.observe("expirations", {r.friendly_name: r.not_after.isoformat() for r in rows.values()})
    assert bt_act.old.fingerprint in rows, "the old certificate is no longer listed"
    assert bt_act.new.fingerprint in rows, "the renewed certificate is not listed"
    old, new = rows[bt_act.old.fingerprint], rows[bt_act.new.fingerprint]
    assert new.not_after > old.not_after, "the renewed certificate does not expire later"


@when(parsers.re(r"the (?:renewed|new) certificate is made the default"))
def make_new_default(bt_act: BtAct) -> None:
    assert bt_act.new is not None
    row = bt_act.row(bt_act.new.certificate)
    made = bt_act.attempt(
        "make it the default", lambda: bt_act.scratch.client.set_default(bt_act.name, row.id)
    )
    assert made is not None, f"it cannot be made the default: {bt_act.error}"


@then(
    parsers.parse(
        'clients sending "{hostname}", and clients sending no SNI, get the renewed certificate'
    )
)
def renewed_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.new is not None
    for name in (hostname, None):
        got = bt_act.served(name)
        assert got.fingerprint == bt_act.new.fingerprint, f"{name or 'no SNI'}: {got.subject}"


@when("the old certificate is removed")
def remove_old(bt_act: BtAct) -> None:
    assert bt_act.old is not None
    row = bt_act.row(bt_act.old.certificate)
    bt_act.attempt(
        "remove the old certificate", lambda: bt_act.scratch.client.delete(bt_act.name, row.id)
    )
    assert bt_act.error is None, f"the removal was refused: {bt_act.error}"


@then("Security :: Certificates no longer lists the old certificate")
def old_gone(bt_act: BtAct) -> None:
    assert bt_act.old is not None
    assert bt_act.old.fingerprint not in [r.fingerprint for r in bt_act.rows()]


@then(parsers.parse('clients sending "{hostname}" still get the renewed certificate'))
def renewed_still_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.new is not None
    got = bt_act.served(hostname)
    assert got.fingerprint == bt_act.new.fingerprint, f"served {got.subject}"


@when("the other certificate authority's root certificate is imported")
def import_other_root(bt_act: BtAct) -> None:
    assert bt_act.other_ca is not None
    root = to_pem(bt_act.other_ca.root).encode()
    _import(bt_act, "import the other root", root, "other-root.crt")
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@then("Security :: Certificates lists it as a root: Issued To equals Issued By")
def other_root_listed(bt_act: BtAct) -> None:
    assert bt_act.other_ca is not None
    row = bt_act.row(bt_act.other_ca.root)
    assert row.issued_to == row.issued_by and row.kind == "root", f"listed as {row.kind}"


@then(parsers.parse('clients sending "{hostname}" still get the current certificate'))
def current_still_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.old is not None
    got = bt_act.served(hostname)
    assert got.fingerprint == bt_act.old.fingerprint, f"served {got.subject}"


@when(
    parsers.parse(
        'a certificate request for "{hostname}" is signed by the other certificate authority '
        "and installed with its intermediate"
    )
)
def replace_from_other(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.other_ca is not None
    form = _form(friendly_name="Accord replacement", alternative_names=(hostname,))
    request = bt_act.scratch.client.create_request(bt_act.name, form)
    cert = bt_act.other_ca.sign_csr(request.request_data)
    for item, filename in ((cert, "new.crt"), (bt_act.other_ca.cert, "new-intermediate.crt")):
        _import(bt_act, f"import {filename}", to_pem(item).encode(), filename)
        assert bt_act.error is None, f"the import was refused: {bt_act.error}"
    bt_act.new = bt_act.row(cert)


@then("the new certificate shows no warning")
def new_no_warning(bt_act: BtAct) -> None:
    assert bt_act.new is not None
    row = bt_act.row(bt_act.new.certificate)
    assert row.private_key, "it was not linked to its request's private key"
    assert not row.warnings, f"it shows {row.warnings}"


@then(
    parsers.parse(
        'clients sending "{hostname}" get the new certificate, with a chain to the other '
        "certificate authority's root"
    )
)
def new_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.new is not None and bt_act.other_ca is not None
    got = bt_act.served(hostname)
    assert got.fingerprint == bt_act.new.fingerprint, f"served {got.subject}"
    sent = [fingerprint_sha256(c) for c in got.chain]
    assert fingerprint_sha256(bt_act.other_ca.cert) in sent, "the intermediate is not sent"
    assert got.chain[-1].issuer == bt_act.other_ca.root.subject or got.chain[-1] == (
        bt_act.other_ca.root
    ), "the chain does not lead to the other root"
