"""Steps for the TLS certificates the API lists: what each node of the primary deployment is
assigned, and the trusted CA list (`accord.pexip.certificates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytest_bdd import given, then

from accord.network import AddressMap, Endpoint
from accord.pexip.certificates import Node, PlatformCertificates
from accord.pexip.deployment import Deployment
from accord.pki import (
    PkiError,
    build_chain,
    days_left,
    is_self_signed,
    is_weak_signature,
    is_wildcard,
    matches_hostname,
    san_names,
    status,
)
from accord.systems import Systems
from steps.common import Observe, shown

EXPIRY_DAYS = 30


@dataclass
class Platform:
    """A deployment's certificates and how to reach its nodes."""

    certificates: PlatformCertificates
    addresses: AddressMap
    sip_enabled: bool
    deployment: str = "primary"

    def assigned(self) -> list[tuple[Node, object]]:
        return [(n, n.certificate) for n in self.certificates.nodes]

    def endpoint(self, node: Node, port: int) -> Endpoint:
        return self.addresses.endpoint(node.address, port)


def _platform(systems: Systems, deployment: str) -> Platform:
    """Nodes, TLS certificates and trusted CA certificates of a deployment: four list calls
    (remembered for the run); its nodes as the site declares them."""
    client = systems.pexip(deployment)
    protocols = Deployment(client, f"pexip-{deployment}").global_settings()
    certificates = PlatformCertificates(client)
    declared = getattr(systems.site.systems.pexip, deployment).nodes
    shown(f"nodes of pexip-{deployment}", [node.obj for node in certificates.nodes], declared)
    return Platform(
        certificates,
        systems.addresses(deployment),
        bool(protocols.get("enable_sip")),
        deployment,
    )


def platforms(systems: Systems) -> list[Platform]:
    """The certificates of each deployment the site names (but one kept powered off): what the
    wire steps probe."""
    return [_platform(systems, d) for d in systems.on_the_wire()]


@given("the certificates of the primary deployment", target_fixture="platform")
def platform(systems: Systems) -> Platform:
    """Nodes, TLS certificates and trusted CA certificates: four list calls."""
    return _platform(systems, "primary")


def _each_assigned(platform: Platform) -> list[Node]:
    missing = [str(n) for n in platform.certificates.nodes if n.certificate is None]
    assert not missing, f"nodes without an assigned certificate: {missing}"
    return platform.certificates.nodes


def _report(observe: Observe, what: str, platform: Platform) -> None:
    observe(
        what,
        {
            str(n): n.certificate.describe() if n.certificate else None
            for n in platform.certificates.nodes
        },
    )


@then("every node has an assigned certificate")
def every_node_assigned(platform: Platform, observe: Observe) -> None:
    _report(observe, "assigned certificates", platform)
    _each_assigned(platform)


@then("no node uses a temporary (self-signed) certificate")
def no_temporary(platform: Platform) -> None:
    temporary = [str(n) for n in _each_assigned(platform) if is_self_signed(n.certificate.leaf)]
    assert not temporary, f"nodes on a temporary (self-signed) certificate: {temporary}"


@then("every Conferencing Node has a SIP TLS FQDN that matches an entry of its certificate")
def sip_tls_fqdn_matches(platform: Platform, observe: Observe) -> None:
    nodes = platform.certificates.conferencing_nodes
    observe(
        "SIP TLS FQDNs",
        {str(n): {"sip_tls_fqdn": n.sip_tls_fqdn, "names": _names(n)} for n in nodes},
    )
    bad = [
        f"{n}: {n.sip_tls_fqdn or '(none set)'}"
        for n in nodes
        if not n.sip_tls_fqdn
        or n.certificate is None
        or not matches_hostname(n.certificate.leaf, n.sip_tls_fqdn)
    ]
    assert not bad, f"SIP TLS FQDN not in the node's certificate: {bad}"


def _names(node: Node) -> list[str]:
    return san_names(node.certificate.leaf) if node.certificate else []


@then("each node's certificate is valid for the node's FQDN")
def valid_for_fqdn(platform: Platform, observe: Observe) -> None:
    _report(observe, "assigned certificates", platform)
    bad = [
        f"{n}: {_names(n)}"
        for n in _each_assigned(platform)
        if not matches_hostname(n.certificate.leaf, n.fqdn)
    ]
    assert not bad, f"certificates not valid for their node's FQDN: {bad}"


def _all_certificates(platform: Platform) -> dict[str, object]:
    found = {
        f"TLS certificate {c.uri} ({c.leaf.subject.rfc4514_string()})": c.leaf
        for c in platform.certificates.tls.values()
    }
    for obj, cert in platform.certificates.ca_entries:
        subject = cert.subject.rfc4514_string()
        found[f"trusted CA certificate {obj['resource_uri']} ({subject})"] = cert
    return found


@then('no assigned certificate or trusted CA certificate has the status "Weak signature"')
def no_weak(platform: Platform, observe: Observe) -> None:
    checked = {f"{n}": n.certificate.leaf for n in _each_assigned(platform)}
    for cert in platform.certificates.trusted:
        checked[f"trusted CA {cert.subject.rfc4514_string()}"] = cert
    observe("statuses", {name: status(cert) for name, cert in checked.items()})
    weak = [name for name, cert in checked.items() if is_weak_signature(cert)]
    assert not weak, f'"Weak signature" (SHA-1 or older): {weak}'


@then("every assigned certificate has at least one subject alternative name")
def has_san(platform: Platform, observe: Observe) -> None:
    observe("SANs", {str(n): _names(n) for n in _each_assigned(platform)})
    bare = [str(n) for n in _each_assigned(platform) if not _names(n)]
    assert not bare, f"certificates without a SAN entry: {bare}"


@given("SIP is enabled")
def sip_enabled(platform: Platform) -> None:
    if not platform.sip_enabled:
        pytest.skip("not applicable: SIP is not enabled in the global settings")


@then("no Conferencing Node uses a wildcard certificate")
def no_wildcard(platform: Platform, observe: Observe) -> None:
    nodes = platform.certificates.conferencing_nodes
    observe("names", {str(n): _names(n) for n in nodes})
    wild = [f"{n}: {_names(n)}" for n in nodes if n.certificate and is_wildcard(n.certificate.leaf)]
    assert not wild, f"wildcard certificates on Conferencing Nodes (RFC 5922): {wild}"


@then("every assigned certificate chains to a trusted CA certificate")
def chains(platform: Platform, observe: Observe) -> None:
    results = {}
    for node in _each_assigned(platform):
        try:
            path = platform.certificates.chain_of(node.certificate)
            results[str(node)] = [c.subject.rfc4514_string() for c in path]
        except PkiError as exc:
            results[str(node)] = f"incomplete chain: {exc}"
    observe("chains of trust", results)
    bad = {k: v for k, v in results.items() if isinstance(v, str)}
    assert not bad, f"incomplete chains of trust: {bad}"


@then("the trusted CA list holds every intermediate and root of the assigned certificates")
def ca_list_complete(platform: Platform, observe: Observe) -> None:
    trusted = platform.certificates.trusted
    observe("trusted CA list", [c.subject.rfc4514_string() for c in trusted])
    missing = {}
    for node in _each_assigned(platform):
        stored = node.certificate
        pool = [*stored.chain[1:], *trusted]
        try:
            path = build_chain(stored.leaf, pool)
        except PkiError as exc:
            missing[str(node)] = str(exc)
            continue
        absent = [c.subject.rfc4514_string() for c in path[1:] if c not in trusted]
        if absent:
            missing[str(node)] = f"not in the trusted CA list: {absent}"
    assert not missing, f"issuers missing from the trusted CA list: {missing}"


@then("no TLS certificate or trusted CA certificate expires within 30 days")
def not_expiring(platform: Platform, observe: Observe) -> None:
    checked = _all_certificates(platform)
    observe("days left", {name: days_left(cert) for name, cert in checked.items()})
    soon = [name for name, cert in checked.items() if days_left(cert) < EXPIRY_DAYS]
    assert not soon, f"expired or expiring within {EXPIRY_DAYS} days: {soon}"
