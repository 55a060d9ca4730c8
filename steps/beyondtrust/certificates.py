"""Steps for the BeyondTrust PRA SSL certificates guide, seen on the wire.

A real appliance has no certificate API, so every step here verifies what the appliances the
site file names serve to TLS clients (``accord.beyondtrust.probes``: real handshakes, a server
name sent as SNI or none), at the address and port where the site file says each is reached.
The same steps verify the simulator's appliances and live ones; nothing here writes. Every
handshake's observation (what was sent, what was served, the verdict) is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_bdd import given, then

from accord.beyondtrust.probes import (
    ServedCertificate,
    ca_signed,
    chain_problem,
    covers,
    days_left,
    served,
)
from accord.systems import BeyondTrustAppliance, Systems, beyondtrust_appliances
from steps.common import Observe

# A server name no appliance's database can match (".invalid" is reserved, RFC 2606).
UNKNOWN_NAME = "accord-unknown-name.invalid"
NOT_RUN = "not run: the site names no BeyondTrust appliances"


@dataclass
class BeyondTrustSite:
    """The site's appliances, its hostname and trusted roots, and each handshake made so far
    in this scenario (one per appliance, server name and trust file)."""

    appliances: list[BeyondTrustAppliance]
    site_hostname: str
    trust: Path
    observe: Observe
    _seen: dict[tuple[str, str | None, Path | None], ServedCertificate] = field(
        default_factory=dict
    )

    def role(self, role: str) -> list[BeyondTrustAppliance]:
        return [a for a in self.appliances if a.role == role]

    @property
    def primary(self) -> BeyondTrustAppliance:
        return self.role("primary")[0]

    def served(
        self, appliance: BeyondTrustAppliance, server_name: str | None, *, trust: bool = False
    ) -> ServedCertificate:
        """What ``appliance`` serves to a client sending ``server_name`` (``None``: no SNI);
        with ``trust``, a strict client's verdict against the site's trusted roots too. The
        observation is recorded; a failed handshake fails the step."""
        key = (appliance.name, server_name, self.trust if trust else None)
        if key not in self._seen:
            result = served(appliance.endpoint, server_name, key[2])
            sni = server_name or "no SNI"
            self.observe(f"{appliance.name} ({appliance.hostname}), {sni}", result.observation())
            self._seen[key] = result
        result = self._seen[key]
        if not result.ok:
            raise AssertionError(
                f"{appliance.name} ({result.endpoint}) served nothing to a client sending "
                f"{server_name or 'no SNI'}: {result.error}"
            )
        return result


def _describe(cert: ServedCertificate) -> str:
    names = ", ".join(cert.alternative_names) or "none"
    return f"{cert.subject} (SANs {names}; {cert.fingerprint})"


@given("the BeyondTrust appliances named in the site file", target_fixture="beyondtrust")
def beyondtrust(systems: Systems, observe: Observe) -> BeyondTrustSite:
    site = systems.site
    values = site.model.beyondtrust
    appliances = beyondtrust_appliances(site)
    if not appliances or values is None:
        pytest.skip(NOT_RUN)
    trust = site.file(values.trusted_ca_bundle)
    assert trust is not None
    observe(
        "appliances",
        {
            "site_hostname": values.site_hostname,
            "trusted_ca_bundle": str(trust),
            "appliances": {
                a.name: {"hostname": a.hostname, "role": a.role, "reached_at": str(a.endpoint)}
                for a in appliances
            },
        },
    )
    return BeyondTrustSite(appliances, values.site_hostname, trust, observe)


@given("the site has a backup appliance")
def has_backup(beyondtrust: BeyondTrustSite) -> None:
    if not beyondtrust.role("backup"):
        pytest.skip("not run: the site names no backup (failover) appliance")


@given("the site has Atlas traffic nodes")
def has_traffic_nodes(beyondtrust: BeyondTrustSite) -> None:
    if not beyondtrust.role("traffic_node"):
        pytest.skip("not run: the site names no Atlas traffic node")


# --- BT-08: SSL Certificate Auto-Selection ---------------------------------------------------


@then(
    "on every appliance, a client sending its hostname gets a certificate whose subject "
    "alternative names match it"
)
def own_hostname_matched(beyondtrust: BeyondTrustSite) -> None:
    wrong = []
    for appliance in beyondtrust.appliances:
        cert = beyondtrust.served(appliance, appliance.hostname)
        if not covers(cert, appliance.hostname):
            wrong.append(f"{appliance.name} served {_describe(cert)} for {appliance.hostname}")
    assert not wrong, "; ".join(wrong)


def _same_as_site_hostname(beyondtrust: BeyondTrustSite, server_name: str | None) -> None:
    wrong = []
    for appliance in beyondtrust.appliances:
        expected = beyondtrust.served(appliance, beyondtrust.site_hostname)
        got = beyondtrust.served(appliance, server_name)
        if got.fingerprint != expected.fingerprint:
            wrong.append(
                f"{appliance.name} served {_describe(got)} to a client sending "
                f"{server_name or 'no SNI'}, but {_describe(expected)} for "
                f"{beyondtrust.site_hostname}"
            )
    assert not wrong, "the default certificate is not the site's: " + "; ".join(wrong)


@then(
    "on every appliance, a client that sends no SNI information gets the same certificate as a "
    "client sending the site hostname"
)
def no_sni_gets_default(beyondtrust: BeyondTrustSite) -> None:
    _same_as_site_hostname(beyondtrust, None)


@then(
    "on every appliance, a client whose SNI information matches nothing in the appliance "
    "database gets the same certificate as a client sending the site hostname"
)
def unknown_sni_gets_default(beyondtrust: BeyondTrustSite) -> None:
    _same_as_site_hostname(beyondtrust, UNKNOWN_NAME)


# --- BT-09: CA-signed, valid for the site hostname, with its full chain ----------------------


def _primary_for_site(beyondtrust: BeyondTrustSite) -> ServedCertificate:
    return beyondtrust.served(beyondtrust.primary, beyondtrust.site_hostname, trust=True)


@then(
    "the primary appliance's certificate for the site hostname is signed by a certificate "
    "authority, not self-signed"
)
def primary_ca_signed(beyondtrust: BeyondTrustSite) -> None:
    cert = _primary_for_site(beyondtrust)
    assert ca_signed(cert), (
        f"{beyondtrust.primary.name} serves the self-signed {_describe(cert)} for "
        f"{beyondtrust.site_hostname}"
    )


@then("it verifies against the site's trusted root certificates for the site hostname")
def primary_verifies(beyondtrust: BeyondTrustSite) -> None:
    cert = _primary_for_site(beyondtrust)
    assert cert.verified, (
        f"{beyondtrust.primary.name}'s certificate for {beyondtrust.site_hostname} does not "
        f"verify against {beyondtrust.trust.name}: {cert.verify_error}"
    )


@then("the appliance sends the intermediate certificates of its chain")
def primary_full_chain(beyondtrust: BeyondTrustSite, observe: Observe) -> None:
    cert = _primary_for_site(beyondtrust)
    problem = chain_problem(cert, beyondtrust.trust)
    observe(f"{beyondtrust.primary.name}: chain from the certificates sent", problem or "complete")
    assert problem is None, (
        f"{beyondtrust.primary.name} does not send its full chain for "
        f"{beyondtrust.site_hostname}: {problem}"
    )


@then("it has not expired")
def primary_not_expired(beyondtrust: BeyondTrustSite, observe: Observe) -> None:
    cert = _primary_for_site(beyondtrust)
    left = days_left(cert)
    observe(f"{beyondtrust.primary.name}: days left", left)
    assert left >= 0, f"{beyondtrust.primary.name}'s certificate expired {-left} day(s) ago"


# --- BT-10: failover ---------------------------------------------------------------------------


def _one_certificate(
    beyondtrust: BeyondTrustSite, asked: list[tuple[BeyondTrustAppliance, str]]
) -> ServedCertificate:
    """The certificate each appliance serves for its server name (they must all be one)."""
    served_by = {
        f"{appliance.name} for {name}": beyondtrust.served(appliance, name)
        for appliance, name in asked
    }
    fingerprints = {cert.fingerprint for cert in served_by.values()}
    assert len(fingerprints) == 1, "not one and the same certificate: " + "; ".join(
        f"{where}: {_describe(cert)}" for where, cert in served_by.items()
    )
    return next(iter(served_by.values()))


def _covers_all(cert: ServedCertificate, hostnames: list[str]) -> None:
    missing = [name for name in hostnames if not covers(cert, name)]
    assert not missing, f"{_describe(cert)} does not cover {', '.join(missing)}"


@then(
    "the primary and every backup appliance serve the identical certificate for the site hostname"
)
def failover_identical(beyondtrust: BeyondTrustSite) -> None:
    pair = [beyondtrust.primary, *beyondtrust.role("backup")]
    _one_certificate(beyondtrust, [(a, beyondtrust.site_hostname) for a in pair])


@then(
    "that certificate covers the site hostname and the hostname of the primary and of every "
    "backup appliance"
)
def failover_covers(beyondtrust: BeyondTrustSite) -> None:
    pair = [beyondtrust.primary, *beyondtrust.role("backup")]
    cert = beyondtrust.served(beyondtrust.primary, beyondtrust.site_hostname)
    _covers_all(cert, [beyondtrust.site_hostname, *(a.hostname for a in pair)])


# --- BT-11: Atlas traffic nodes -----------------------------------------------------------------


@then(
    "every traffic node serves one and the same certificate for the site hostname and for its "
    "own hostname"
)
def atlas_one_certificate(beyondtrust: BeyondTrustSite) -> None:
    asked = [
        (node, name)
        for node in beyondtrust.role("traffic_node")
        for name in (beyondtrust.site_hostname, node.hostname)
    ]
    _one_certificate(beyondtrust, asked)


@then("that certificate covers the site hostname and the hostname of every traffic node")
def atlas_covers(beyondtrust: BeyondTrustSite) -> None:
    nodes = beyondtrust.role("traffic_node")
    hostnames = [beyondtrust.site_hostname, *(n.hostname for n in nodes)]
    for node in nodes:
        for name in (beyondtrust.site_hostname, node.hostname):
            _covers_all(beyondtrust.served(node, name), hostnames)
