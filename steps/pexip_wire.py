"""Steps for what the network sees of each node: the security wizard's answers and SNMP on
the wire.

Every step probes the nodes of the primary deployment where the site's address map says they
are reached (`accord.probes`: TLS negotiation, HTTP, TCP connect, SIP OPTIONS, SNMP GET) and
records each probe's observation: what was sent and what came back (never a secret). A step's
probes run concurrently (`_each`): a probe that expects silence waits out its timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from pytest_bdd import then

from accord.network import AddressMap, Endpoint
from accord.pexip.certificates import node_fqdn
from accord.probes import http, ports, sip, snmp, tls
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe

Obj = dict[str, Any]
T = TypeVar("T")
HTTPS, SSH, CLOSED_TCP, SNMP = 443, 22, 23, 161  # 23 (telnet): a port no Pexip node listens on
SILENCE = 1.5  # seconds a probe waits where no answer is the expected outcome
PARALLEL = 16  # probes in flight at once
CHACHA20_ONLY = (
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305"
)
AES_GCM = "ECDHE+AESGCM:DHE+AESGCM"
ADMIN_LOGIN = "/admin/login/"


def _conferencing(node: Obj) -> bool:
    return "/worker_vm/" in node["resource_uri"]


def _addresses(systems: Systems) -> AddressMap:
    return systems.addresses("primary")


def _each(probes: Sequence[tuple[str, Callable[[], T]]]) -> list[tuple[str, T]]:
    """Run named probes concurrently; their results by name, in the given order."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = [(name, pool.submit(probe)) for name, probe in probes]
        return [(name, future.result()) for name, future in futures]


def _tls_listeners(
    nodes: list[Obj], systems: Systems, site: Site
) -> Iterator[tuple[Obj, str, Endpoint]]:
    """Every TLS listener: each node's HTTPS, each Conferencing Node's SIP TLS."""
    addresses = _addresses(systems)
    sip_tls = site.pexip.security_wizard.sip_tls_port
    for node in nodes:
        yield node, "HTTPS", addresses.endpoint(node["address"], HTTPS)
        if _conferencing(node):
            yield node, "SIP TLS", addresses.endpoint(node["address"], sip_tls)


def _negotiations(
    nodes: list[Obj], systems: Systems, site: Site, version: tls.TlsVersion, ciphers: str | None
) -> list[tuple[str, tls.Negotiation]]:
    results = _each(
        [
            (
                f"{node['name']} {what}",
                lambda node=node, endpoint=endpoint: tls.negotiate(
                    endpoint, server_name=node_fqdn(node), version=version, ciphers=ciphers
                ),
            )
            for node, what, endpoint in _tls_listeners(nodes, systems, site)
        ]
    )
    for name, result in results:
        if not result.connected:
            raise AssertionError(
                f"{name} ({result.endpoint}): could not connect ({result.error}); "
                "a closed port proves nothing about TLS"
            )
    return results


def _record(observe: Observe, what: str, results: list[tuple[str, Any]]) -> None:
    observe(what, {name: result.observation() for name, result in results})


@then("no node's TLS listeners accept a TLS 1.2 handshake offering only ChaCha20-Poly1305")
def fips_refuses_chacha(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """FIPS 140-2 mode (SECW-01): ChaCha20-Poly1305 is not a FIPS-approved cipher."""
    results = _negotiations(nodes, systems, site, "TLSv1.2", CHACHA20_ONLY)
    _record(observe, "TLS 1.2 offering only ChaCha20-Poly1305", results)
    accepted = [f"{name} ({r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"non-FIPS cipher suites accepted by: {', '.join(accepted)}"


@then("every node's TLS listeners accept a TLS 1.2 handshake offering AES-GCM")
def fips_accepts_aes(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """The same listeners do speak TLS with FIPS-approved suites (so a refusal means FIPS)."""
    results = _negotiations(nodes, systems, site, "TLSv1.2", AES_GCM)
    _record(observe, "TLS 1.2 offering AES-GCM", results)
    refused = [f"{name} ({r.error})" for name, r in results if not r.accepted]
    assert not refused, f"AES-GCM refused by: {', '.join(refused)}"


@then("no node's HTTPS or SIP TLS listener accepts a TLS 1.0 handshake")
def tls10_refused(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """SECW-10: the probe's own client offers TLS 1.0 (OpenSSL security level 0), so a
    refusal is the node's."""
    results = _negotiations(nodes, systems, site, "TLSv1", None)
    _record(observe, "TLS 1.0 handshakes", results)
    accepted = [f"{name} ({r.protocol}, {r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"TLS 1.0 accepted by: {', '.join(accepted)}"


def _connections(
    nodes: list[Obj], systems: Systems, port: int
) -> list[tuple[str, Callable[[], ports.PortProbe]]]:
    """A TCP connect probe to ``port`` of every node."""
    addresses = _addresses(systems)
    return [
        (
            node["name"],
            lambda node=node: ports.tcp_connect(
                addresses.endpoint(node["address"], port), timeout=SILENCE
            ),
        )
        for node in nodes
    ]


@then("no node accepts connections on its SSH port")
def ssh_closed(nodes: list[Obj], systems: Systems, observe: Observe) -> None:
    """SECW-02: with the system administrator account disabled no node offers SSH."""
    results = _each(_connections(nodes, systems, SSH))
    _record(observe, "TCP connections to port 22", results)
    open_ = [
        f"{name} ({r.banner or 'no banner'})" for name, r in results if r.outcome == "accepted"
    ]
    assert not open_, f"SSH port open on: {', '.join(open_)}"


@then("a TCP connection to a closed port of every node times out instead of being reset")
def closed_ports_drop(nodes: list[Obj], systems: Systems, observe: Observe) -> None:
    """SECW-04: a dropped SYN gets no answer at all; a rejected one gets a reset."""
    results = _each(_connections(nodes, systems, CLOSED_TCP))
    _record(observe, f"TCP connections to closed port {CLOSED_TCP}", results)
    wrong = [f"{name}: {r.outcome}" for name, r in results if r.outcome != "timed out"]
    assert not wrong, f"closed ports not dropped: {', '.join(wrong)}"


@then(
    "every Conferencing Node answers SIP OPTIONS over UDP, TCP and TLS on the site's SIP "
    "listen ports"
)
def sip_ports(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """SECW-07: the wizard's SIP listen ports are the site's."""
    addresses = _addresses(systems)
    wizard = site.pexip.security_wizard
    transports = {"udp": wizard.sip_udp_port, "tcp": wizard.sip_tcp_port}
    transports["tls"] = wizard.sip_tls_port
    conferencing = [n for n in nodes if _conferencing(n)]
    if not conferencing:
        pytest.fail("the primary deployment has no Conferencing Node to probe")
    results = _each(
        [
            (
                f"{node['name']} {transport.upper()} {port}",
                lambda node=node, transport=transport, port=port: sip.options(
                    addresses.endpoint(node["address"], port),
                    transport=transport,
                    server_name=node_fqdn(node),
                ),
            )
            for node in conferencing
            for transport, port in transports.items()
        ]
    )
    _record(observe, "SIP OPTIONS", results)
    silent = [name for name, r in results if not r.answered]
    assert not silent, f"no SIP answer from: {', '.join(silent)}"


def _admin_requests(
    nodes: list[Obj], systems: Systems, site: Site, host: str | None
) -> list[tuple[str, http.HttpExchange]]:
    addresses = _addresses(systems)
    system = site.systems.pexip.primary
    out = []
    for node in nodes:
        if _conferencing(node):
            continue
        endpoint = addresses.endpoint(node["address"], HTTPS)
        exchange = http.request(
            endpoint,
            ADMIN_LOGIN,
            server_name=node_fqdn(node),
            ca_bundle=site.file(system.ca_bundle),
            host_header=host or node_fqdn(node),
        )
        out.append((node["name"], exchange))
    return out


@then(
    "every Management Node refuses a request to the Administrator interface with a foreign "
    "Host header"
)
def foreign_host_refused(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """SECW-09: the management web validates Host headers (Django answers 400)."""
    results = _admin_requests(nodes, systems, site, http.FOREIGN_HOST)
    _record(observe, f"GET {ADMIN_LOGIN} with Host: {http.FOREIGN_HOST}", results)
    wrong = [f"{name}: {r.status or r.error}" for name, r in results if r.status != 400]
    assert not wrong, f"foreign Host header not refused with 400 by: {', '.join(wrong)}"


@then("every Management Node answers the same request when the Host header is its own FQDN")
def own_host_answered(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """The refusal above is about the Host header, not the request."""
    results = _admin_requests(nodes, systems, site, None)
    _record(observe, f"GET {ADMIN_LOGIN} with the node's own FQDN as Host", results)
    wrong = [f"{name}: {r.status or r.error}" for name, r in results if r.status in (None, 400)]
    assert not wrong, f"the node's own name refused by: {', '.join(wrong)}"


# -- SNMP (SNMP-04) -----------------------------------------------------------------------


def _snmp_user(site: Site, authentication: str = "SHA", privacy: str = "AES") -> snmp.SnmpV3User:
    """The site's SNMPv3 user (the management station's), with the given protocols."""
    station = site.pexip.snmp
    return snmp.SnmpV3User(
        station.username,
        site.resolve(station.authentication_password).reveal(),
        site.resolve(station.privacy_password).reveal(),
        authentication,  # type: ignore[arg-type]
        privacy,  # type: ignore[arg-type]
    )


def _snmp_gets(
    nodes: list[Obj], systems: Systems, requests: dict[str, tuple[Any, str]], timeout: float
) -> list[tuple[str, snmp.SnmpObservation]]:
    """One SNMP GET of sysDescr per node and request (name → (credentials, version))."""
    addresses = _addresses(systems)
    return _each(
        [
            (
                f"{node['name']}: {what}",
                lambda node=node, credentials=credentials, version=version: snmp.get(
                    addresses.endpoint(node["address"], SNMP),
                    credentials,
                    version=version,
                    timeout=timeout,
                ),
            )
            for node in nodes
            for what, (credentials, version) in requests.items()
        ]
    )


@then(
    "every node answers an SNMPv3 GET from the site's user with SHA1 authentication and "
    "AES-128 privacy"
)
def snmp_sha_aes(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """SNMP-04: the one request an SNMPv3 read-only node answers."""
    requests = {"SNMPv3 SHA1/AES-128": (_snmp_user(site), "v2c")}
    results = _snmp_gets(nodes, systems, requests, timeout=3.0)
    _record(observe, "SNMP GET sysDescr.0", results)
    silent = [f"{name} ({r.outcome}: {r.detail})" for name, r in results if not r.answered]
    assert not silent, f"no SNMPv3 SHA1/AES-128 answer from: {', '.join(silent)}"


@then("no node answers the site's user with MD5 authentication or DES privacy")
def snmp_no_md5_des(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """SNMP-04: the same user and passwords with a weaker protocol get no data."""
    requests = {
        f"SNMPv3 {auth}/{priv}": (_snmp_user(site, auth, priv), "v2c")
        for auth, priv in (("MD5", "DES"), ("MD5", "AES"), ("SHA", "DES"))
    }
    results = _snmp_gets(nodes, systems, requests, timeout=SILENCE)
    _record(observe, "SNMP GET sysDescr.0 with weaker protocols", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered with weaker protocols: {', '.join(answered)}"


@then('no node answers SNMPv1 or SNMPv2c, with the community "public" or the site\'s community')
def snmp_no_v1_v2c(nodes: list[Obj], systems: Systems, site: Site, observe: Observe) -> None:
    """SNMP-04: communities are SNMPv1/v2c; an SNMPv3 read-only node ignores them."""
    community = site.pexip.snmp.community
    requests = {
        f"{version} community {label}": (value, version)
        for version in ("v1", "v2c")
        for label, value in (("public", "public"), ("of the site", community))
    }
    results = _snmp_gets(nodes, systems, requests, timeout=SILENCE)
    _record(observe, "SNMP GET sysDescr.0 with a community", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered SNMPv1/v2c: {', '.join(answered)}"
