"""Steps for what the network sees of each node: the security wizard's answers and SNMP on
the wire.

Every step probes the nodes of the primary deployment where the site's address map says they
are reached (`accord.probes`: TLS negotiation, HTTP, TCP connect, SIP OPTIONS, SNMP GET) and
records each probe's observation: what was sent and what came back (never a secret). A step's
probes are planned from the nodes alone (a `_plan_*` function), so the run starts them with
every other scenario's when it begins (`steps.common.wire`): a probe that expects silence waits
out the site's ``silence_timeout`` at the same time as all the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from accord.network import Endpoint
from accord.pexip.certificates import node_fqdn
from accord.pexip.deployment import Deployment
from accord.probes import http, ports, sip, snmp, tls
from accord.probes.wire import Named, Probe, Wire, probe
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, probing

Obj = dict[str, Any]
HTTPS, SSH, CLOSED_TCP, SNMP = 443, 22, 23, 161  # 23 (telnet): a port no Pexip node listens on
CHACHA20_ONLY = (
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305"
)
AES_GCM = "ECDHE+AESGCM:DHE+AESGCM"
ADMIN_LOGIN = "/admin/login/"

Plan = Callable[[list[Obj], Systems], Named[Any]]


def _conferencing(node: Obj) -> bool:
    return "/worker_vm/" in node["resource_uri"]


def _prefetch(plan: Plan) -> Callable[[Systems], list[Probe[Any]]]:
    """The probes ``plan`` will send to the primary deployment's nodes (read as the Background
    reads them), for the run to start early."""

    def probes(systems: Systems) -> list[Probe[Any]]:
        nodes = Deployment(systems.pexip("primary"), "pexip-primary").nodes()
        return [one for _, one in plan(nodes, systems)]

    return probes


def _endpoint(systems: Systems, node: Obj, port: int) -> Endpoint:
    return systems.addresses("primary").endpoint(node["address"], port)


def _tls_listeners(nodes: list[Obj], systems: Systems) -> Iterator[tuple[Obj, str, Endpoint]]:
    """Every TLS listener: each node's HTTPS, each Conferencing Node's SIP TLS."""
    sip_tls = systems.site.pexip.security_wizard.sip_tls_port
    for node in nodes:
        yield node, "HTTPS", _endpoint(systems, node, HTTPS)
        if _conferencing(node):
            yield node, "SIP TLS", _endpoint(systems, node, sip_tls)


def _negotiations(version: tls.TlsVersion, ciphers: str | None) -> Plan:
    def plan(nodes: list[Obj], systems: Systems) -> Named[tls.Negotiation]:
        timeout = systems.site.verification.connect_timeout
        return [
            (
                f"{node['name']} {what}",
                probe(
                    tls.negotiate,
                    endpoint,
                    server_name=node_fqdn(node),
                    version=version,
                    ciphers=ciphers,
                    timeout=timeout,
                ),
            )
            for node, what, endpoint in _tls_listeners(nodes, systems)
        ]

    return plan


_FIPS_CHACHA = _negotiations("TLSv1.2", CHACHA20_ONLY)
_FIPS_AES = _negotiations("TLSv1.2", AES_GCM)
_TLS10 = _negotiations("TLSv1", None)


def _negotiated(
    wire: Wire, plan: Plan, nodes: list[Obj], systems: Systems
) -> list[tuple[str, tls.Negotiation]]:
    results = wire.results(plan(nodes, systems))
    for name, result in results:
        if not result.connected:
            raise AssertionError(
                f"{name} ({result.endpoint}): could not connect ({result.error}); "
                "a closed port proves nothing about TLS"
            )
    return results


def _record(observe: Observe, what: str, results: list[tuple[str, Any]]) -> None:
    observe(what, {name: result.observation() for name, result in results})


@probing(
    "no node's TLS listeners accept a TLS 1.2 handshake offering only ChaCha20-Poly1305",
    _prefetch(_FIPS_CHACHA),
)
def fips_refuses_chacha(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """FIPS 140-2 mode (SECW-01): ChaCha20-Poly1305 is not a FIPS-approved cipher."""
    results = _negotiated(wire, _FIPS_CHACHA, nodes, systems)
    _record(observe, "TLS 1.2 offering only ChaCha20-Poly1305", results)
    accepted = [f"{name} ({r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"non-FIPS cipher suites accepted by: {', '.join(accepted)}"


@probing(
    "every node's TLS listeners accept a TLS 1.2 handshake offering AES-GCM",
    _prefetch(_FIPS_AES),
)
def fips_accepts_aes(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """The same listeners do speak TLS with FIPS-approved suites (so a refusal means FIPS)."""
    results = _negotiated(wire, _FIPS_AES, nodes, systems)
    _record(observe, "TLS 1.2 offering AES-GCM", results)
    refused = [f"{name} ({r.error})" for name, r in results if not r.accepted]
    assert not refused, f"AES-GCM refused by: {', '.join(refused)}"


@probing("no node's HTTPS or SIP TLS listener accepts a TLS 1.0 handshake", _prefetch(_TLS10))
def tls10_refused(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-10: the probe's own client offers TLS 1.0 (OpenSSL security level 0), so a
    refusal is the node's."""
    results = _negotiated(wire, _TLS10, nodes, systems)
    _record(observe, "TLS 1.0 handshakes", results)
    accepted = [f"{name} ({r.protocol}, {r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"TLS 1.0 accepted by: {', '.join(accepted)}"


def _connections(port: int) -> Plan:
    """A TCP connect probe to ``port`` of every node (silence is the expected outcome)."""

    def plan(nodes: list[Obj], systems: Systems) -> Named[ports.PortProbe]:
        timeout = systems.site.verification.silence_timeout
        return [
            (node["name"], probe(ports.tcp_connect, _endpoint(systems, node, port), timeout))
            for node in nodes
        ]

    return plan


_SSH = _connections(SSH)
_CLOSED = _connections(CLOSED_TCP)


@probing("no node accepts connections on its SSH port", _prefetch(_SSH))
def ssh_closed(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-02: with the system administrator account disabled no node offers SSH."""
    results = wire.results(_SSH(nodes, systems))
    _record(observe, "TCP connections to port 22", results)
    open_ = [
        f"{name} ({r.banner or 'no banner'})" for name, r in results if r.outcome == "accepted"
    ]
    assert not open_, f"SSH port open on: {', '.join(open_)}"


@probing(
    "a TCP connection to a closed port of every node times out instead of being reset",
    _prefetch(_CLOSED),
)
def closed_ports_drop(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-04: a dropped SYN gets no answer at all; a rejected one gets a reset."""
    results = wire.results(_CLOSED(nodes, systems))
    _record(observe, f"TCP connections to closed port {CLOSED_TCP}", results)
    wrong = [f"{name}: {r.outcome}" for name, r in results if r.outcome != "timed out"]
    assert not wrong, f"closed ports not dropped: {', '.join(wrong)}"


def _sip_options(nodes: list[Obj], systems: Systems) -> Named[sip.SipProbe]:
    """SIP OPTIONS to every Conferencing Node over UDP, TCP and TLS on the site's ports."""
    wizard = systems.site.pexip.security_wizard
    transports = {"udp": wizard.sip_udp_port, "tcp": wizard.sip_tcp_port}
    transports["tls"] = wizard.sip_tls_port
    timeout = systems.site.verification.answer_timeout
    return [
        (
            f"{node['name']} {transport.upper()} {port}",
            probe(
                sip.options,
                _endpoint(systems, node, port),
                transport=transport,
                server_name=node_fqdn(node),
                timeout=timeout,
            ),
        )
        for node in nodes
        if _conferencing(node)
        for transport, port in transports.items()
    ]


@probing(
    "every Conferencing Node answers SIP OPTIONS over UDP, TCP and TLS on the site's SIP "
    "listen ports",
    _prefetch(_sip_options),
)
def sip_ports(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-07: the wizard's SIP listen ports are the site's."""
    if not any(_conferencing(n) for n in nodes):
        pytest.fail("the primary deployment has no Conferencing Node to probe")
    results = wire.results(_sip_options(nodes, systems))
    _record(observe, "SIP OPTIONS", results)
    silent = [name for name, r in results if not r.answered]
    assert not silent, f"no SIP answer from: {', '.join(silent)}"


def _admin_requests(host: str | None) -> Plan:
    """GET the Administrator interface's login page of every Management Node, with ``host``
    as the Host header (None: the node's own FQDN)."""

    def plan(nodes: list[Obj], systems: Systems) -> Named[http.HttpExchange]:
        site = systems.site
        return [
            (
                node["name"],
                probe(
                    http.request,
                    _endpoint(systems, node, HTTPS),
                    ADMIN_LOGIN,
                    server_name=node_fqdn(node),
                    ca_bundle=site.file(site.systems.pexip.primary.ca_bundle),
                    host_header=host or node_fqdn(node),
                    timeout=site.verification.connect_timeout,
                ),
            )
            for node in nodes
            if not _conferencing(node)
        ]

    return plan


_FOREIGN_HOST = _admin_requests(http.FOREIGN_HOST)
_OWN_HOST = _admin_requests(None)


@probing(
    "every Management Node refuses a request to the Administrator interface with a foreign "
    "Host header",
    _prefetch(_FOREIGN_HOST),
)
def foreign_host_refused(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-09: the management web validates Host headers (Django answers 400)."""
    results = wire.results(_FOREIGN_HOST(nodes, systems))
    _record(observe, f"GET {ADMIN_LOGIN} with Host: {http.FOREIGN_HOST}", results)
    wrong = [f"{name}: {r.status or r.error}" for name, r in results if r.status != 400]
    assert not wrong, f"foreign Host header not refused with 400 by: {', '.join(wrong)}"


@probing(
    "every Management Node answers the same request when the Host header is its own FQDN",
    _prefetch(_OWN_HOST),
)
def own_host_answered(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """The refusal above is about the Host header, not the request."""
    results = wire.results(_OWN_HOST(nodes, systems))
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


SnmpRequests = Callable[[Site], dict[str, tuple[Any, str]]]


def _snmp_gets(requests: SnmpRequests, silence: bool) -> Plan:
    """One SNMP GET of sysDescr per node and request (name → (credentials, version)); each
    waits the site's silence timeout where no answer is expected, else its answer timeout."""

    def plan(nodes: list[Obj], systems: Systems) -> Named[snmp.SnmpObservation]:
        timing = systems.site.verification
        timeout = timing.silence_timeout if silence else timing.answer_timeout
        return [
            (
                f"{node['name']}: {what}",
                probe(
                    snmp.get,
                    _endpoint(systems, node, SNMP),
                    credentials,
                    version=version,
                    timeout=timeout,
                ),
            )
            for node in nodes
            for what, (credentials, version) in requests(systems.site).items()
        ]

    return plan


_SNMP_SHA_AES = _snmp_gets(lambda site: {"SNMPv3 SHA1/AES-128": (_snmp_user(site), "v2c")}, False)
_SNMP_WEAK = _snmp_gets(
    lambda site: {
        f"SNMPv3 {auth}/{priv}": (_snmp_user(site, auth, priv), "v2c")
        for auth, priv in (("MD5", "DES"), ("MD5", "AES"), ("SHA", "DES"))
    },
    True,
)
_SNMP_COMMUNITIES = _snmp_gets(
    lambda site: {
        f"{version} community {label}": (value, version)
        for version in ("v1", "v2c")
        for label, value in (("public", "public"), ("of the site", site.pexip.snmp.community))
    },
    True,
)


@probing(
    "every node answers an SNMPv3 GET from the site's user with SHA1 authentication and "
    "AES-128 privacy",
    _prefetch(_SNMP_SHA_AES),
)
def snmp_sha_aes(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SNMP-04: the one request an SNMPv3 read-only node answers."""
    results = wire.results(_SNMP_SHA_AES(nodes, systems))
    _record(observe, "SNMP GET sysDescr.0", results)
    silent = [f"{name} ({r.outcome}: {r.detail})" for name, r in results if not r.answered]
    assert not silent, f"no SNMPv3 SHA1/AES-128 answer from: {', '.join(silent)}"


@probing(
    "no node answers the site's user with MD5 authentication or DES privacy",
    _prefetch(_SNMP_WEAK),
)
def snmp_no_md5_des(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SNMP-04: the same user and passwords with a weaker protocol get no data."""
    results = wire.results(_SNMP_WEAK(nodes, systems))
    _record(observe, "SNMP GET sysDescr.0 with weaker protocols", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered with weaker protocols: {', '.join(answered)}"


@probing(
    'no node answers SNMPv1 or SNMPv2c, with the community "public" or the site\'s community',
    _prefetch(_SNMP_COMMUNITIES),
)
def snmp_no_v1_v2c(nodes: list[Obj], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SNMP-04: communities are SNMPv1/v2c; an SNMPv3 read-only node ignores them."""
    results = wire.results(_SNMP_COMMUNITIES(nodes, systems))
    _record(observe, "SNMP GET sysDescr.0 with a community", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered SNMPv1/v2c: {', '.join(answered)}"
