"""Steps for what the network sees of each node: the security wizard's answers and SNMP on
the wire.

Every step probes every node of each deployment the site names (the primary and, when named,
the contingency deployment), reached where that deployment's address map says
(`accord.probes`: TLS negotiation, HTTP, TCP connect, SIP OPTIONS, SNMP GET), and records each
probe's observation under the node's name and deployment: what was sent and what came back
(never a secret). A step's probes are planned from the systems alone (a plan function), so the
run starts them with every other scenario's when it begins (`steps.common.wire`): a probe that
expects silence waits out the site's ``silence_timeout`` at the same time as all the others.
Every timeout is a site setting (``[verification]``).

A step expecting silence (SSH closed, a closed port dropping, SNMP unanswered) would also pass
against a node that cannot be reached at all; its scenario also shows that the same node
answers where it must (HTTPS, SNMPv3 with SHA1/AES-128, TLS with AES-GCM).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_bdd import given

from accord.network import Endpoint
from accord.pexip.certificates import node_fqdn
from accord.pexip.deployment import Deployment
from accord.probes import http, ports, sip, snmp, tls
from accord.probes.wire import Named, Probe, Wire, probe
from accord.site import Site
from accord.systems import DEPLOYMENTS, Systems
from steps.common import Observe, nodes_of, probing

Obj = dict[str, Any]
HTTPS, SSH, CLOSED_TCP, SNMP = 443, 22, 23, 161  # 23 (telnet): a port no Pexip node listens on
#: Every TLS <= 1.2 suite that is not FIPS-approved (approved: AES and 3DES ciphers), which
#: `tls.negotiate` offers together: ChaCha20-Poly1305 (TLS 1.2), Camellia, ARIA, SEED...
NOT_FIPS = "ALL:!AES:!3DES"
#: The one TLS 1.3 suite that is not FIPS-approved.
CHACHA20_TLS13 = "TLS_CHACHA20_POLY1305_SHA256"
AES_GCM = "ECDHE+AESGCM:DHE+AESGCM"
ADMIN_LOGIN = "/admin/login/"


@dataclass(frozen=True)
class WireNode:
    """A node of one deployment the site names, as the wire steps probe it."""

    deployment: str  # "primary" or "contingency"
    node: Obj

    @property
    def name(self) -> str:
        """The node's name and its deployment, as the evidence shows it."""
        return f"{self.node['name']} ({self.deployment})"

    @property
    def conferencing(self) -> bool:
        return "/worker_vm/" in self.node["resource_uri"]

    @property
    def fqdn(self) -> str:
        return node_fqdn(self.node)

    def endpoint(self, systems: Systems, port: int) -> Endpoint:
        """Where ``port`` of this node is reached: its deployment's address and port maps."""
        return systems.addresses(self.deployment).endpoint(self.node["address"], port)


def wire_nodes(systems: Systems) -> list[WireNode]:
    """The Management Node and every Conferencing Node of each deployment the site names
    (two list reads per deployment, remembered for the run)."""
    return [
        WireNode(deployment, node)
        for deployment in systems.on_the_wire()
        for node in Deployment(systems.pexip(deployment), f"pexip-{deployment}").nodes()
    ]


@given(
    "the nodes of each deployment the site names, primary and contingency",
    target_fixture="every_node",
)
def every_node(systems: Systems, observe: Observe) -> list[WireNode]:
    """Every node the wire steps probe: the primary deployment's and, when the site names one,
    the contingency deployment's (the guide's fallback system "should mimic the primary
    installation"). Each deployment's nodes as its site file declares them (`shown`): nothing
    is probed, and nothing passes, on a deployment that shows none."""
    for deployment in systems.on_the_wire():
        nodes_of(systems, deployment)
    found = wire_nodes(systems)
    observe("nodes probed", {n.name: n.endpoint(systems, HTTPS).host for n in found})
    off = [d for d in DEPLOYMENTS if systems.has(d) and d not in systems.on_the_wire()]
    if off:
        observe(
            "not probed: kept powered off (the site file's powered_off; CONT-05)",
            [f"pexip-{d}" for d in off],
        )
    return found


Plan = Callable[[list[WireNode], Systems], Named[Any]]


def _prefetch(plan: Plan) -> Callable[[Systems], list[Probe[Any]]]:
    """The probes ``plan`` will send to every node of each deployment (read as the Given step
    reads them), for the run to start early."""

    def probes(systems: Systems) -> list[Probe[Any]]:
        return [one for _, one in plan(wire_nodes(systems), systems)]

    return probes


def _tls_listeners(
    nodes: list[WireNode], systems: Systems
) -> Iterator[tuple[WireNode, str, Endpoint]]:
    """Every TLS listener: each node's HTTPS, each Conferencing Node's SIP TLS (site's port)."""
    sip_tls = systems.site.pexip.security_wizard.sip_tls_port
    for node in nodes:
        yield node, "HTTPS", node.endpoint(systems, HTTPS)
        if node.conferencing:
            yield node, f"SIP TLS {sip_tls}", node.endpoint(systems, sip_tls)


def _negotiations(*offers: tuple[tls.TlsVersion, str | None]) -> Plan:
    """A `tls.negotiate` probe per TLS listener and offer (version, cipher suites)."""

    def plan(nodes: list[WireNode], systems: Systems) -> Named[tls.Negotiation]:
        timeout = systems.site.verification.connect_timeout
        return [
            (
                f"{node.name} {what} {version}",
                probe(
                    tls.negotiate,
                    endpoint,
                    server_name=node.fqdn,
                    version=version,
                    ciphers=ciphers,
                    timeout=timeout,
                ),
            )
            for node, what, endpoint in _tls_listeners(nodes, systems)
            for version, ciphers in offers
        ]

    return plan


_NOT_FIPS = _negotiations(("TLSv1", NOT_FIPS), ("TLSv1.1", NOT_FIPS), ("TLSv1.2", NOT_FIPS))
_CHACHA20_TLS13 = _negotiations(("TLSv1.3", CHACHA20_TLS13))
_FIPS_AES = _negotiations(("TLSv1.2", AES_GCM))
_TLS10 = _negotiations(("TLSv1", None))


def _negotiated(
    wire: Wire, plan: Plan, nodes: list[WireNode], systems: Systems
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
    "no node's HTTPS or SIP TLS listener accepts a TLS 1.0, 1.1 or 1.2 handshake offering only "
    "cipher suites that are not FIPS-approved, such as ChaCha20-Poly1305, Camellia or ARIA",
    _prefetch(_NOT_FIPS),
)
def fips_refuses_others(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """FIPS 140-2 mode (SECW-01), TLS 1.0 to 1.2: one handshake per listener and version
    offering every suite this client has whose cipher is neither AES nor 3DES; a listener
    that does not speak a version refuses it too (no non-approved suite is accepted)."""
    results = _negotiated(wire, _NOT_FIPS, every_node, systems)
    _record(observe, f"TLS 1.0, 1.1 and 1.2 offering only {NOT_FIPS}", results)
    accepted = [f"{name} ({r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"non-FIPS cipher suites accepted by: {', '.join(accepted)}"


@probing(
    "no node's HTTPS or SIP TLS listener accepts a TLS 1.3 handshake offering only "
    "TLS_CHACHA20_POLY1305_SHA256",
    _prefetch(_CHACHA20_TLS13),
)
def fips_refuses_chacha_tls13(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """FIPS 140-2 mode (SECW-01), TLS 1.3: what ``openssl s_client -tls1_3 -ciphersuites
    TLS_CHACHA20_POLY1305_SHA256`` offers (pyOpenSSL). A listener that does not speak TLS 1.3
    refuses it too, and rightly passes: it accepts no ChaCha20 there."""
    results = _negotiated(wire, _CHACHA20_TLS13, every_node, systems)
    _record(observe, f"TLS 1.3 offering only {CHACHA20_TLS13}", results)
    accepted = [f"{name} ({r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"TLS 1.3 ChaCha20-Poly1305 accepted by: {', '.join(accepted)}"


@probing(
    "every node's HTTPS and SIP TLS listeners accept a TLS 1.2 handshake offering only AES-GCM",
    _prefetch(_FIPS_AES),
)
def fips_accepts_aes(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """The same listeners do speak TLS with FIPS-approved suites (so a refusal means FIPS)."""
    results = _negotiated(wire, _FIPS_AES, every_node, systems)
    _record(observe, "TLS 1.2 offering AES-GCM", results)
    refused = [f"{name} ({r.error})" for name, r in results if not r.accepted]
    assert not refused, f"AES-GCM refused by: {', '.join(refused)}"


@probing("no node's HTTPS or SIP TLS listener accepts a TLS 1.0 handshake", _prefetch(_TLS10))
def tls10_refused(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SECW-10: the probe's own client offers TLS 1.0 (OpenSSL security level 0), so a
    refusal is the node's."""
    results = _negotiated(wire, _TLS10, every_node, systems)
    _record(observe, "TLS 1.0 handshakes", results)
    accepted = [f"{name} ({r.protocol}, {r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"TLS 1.0 accepted by: {', '.join(accepted)}"


def _connections(port: int, timeout: Callable[[Site], float]) -> Plan:
    """A TCP connect probe to ``port`` of every node, waiting ``timeout(site)``."""

    def plan(nodes: list[WireNode], systems: Systems) -> Named[ports.PortProbe]:
        wait = timeout(systems.site)
        return [
            (node.name, probe(ports.tcp_connect, node.endpoint(systems, port), wait))
            for node in nodes
        ]

    return plan


# Silence is the expected outcome of these two; an open HTTPS port answers at once.
_SSH = _connections(SSH, lambda site: site.verification.silence_timeout)
_CLOSED = _connections(CLOSED_TCP, lambda site: site.verification.silence_timeout)
_REACHABLE = _connections(HTTPS, lambda site: site.verification.connect_timeout)


@probing("no node accepts a TCP connection on its SSH port (22)", _prefetch(_SSH))
def ssh_closed(every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-02: with the system administrator account disabled no node offers SSH."""
    results = wire.results(_SSH(every_node, systems))
    _record(observe, f"TCP connections to port {SSH}", results)
    open_ = [
        f"{name} ({r.banner or 'no banner'})" for name, r in results if r.outcome == "accepted"
    ]
    assert not open_, f"SSH port open on: {', '.join(open_)}"


@probing(
    "a TCP connection to a closed port (23) of every node times out instead of being reset",
    _prefetch(_CLOSED),
)
def closed_ports_drop(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SECW-04: a dropped SYN gets no answer at all; a rejected one gets a reset."""
    results = wire.results(_CLOSED(every_node, systems))
    _record(observe, f"TCP connections to closed port {CLOSED_TCP}", results)
    wrong = [f"{name}: {r.outcome}" for name, r in results if r.outcome != "timed out"]
    assert not wrong, f"closed ports not dropped: {', '.join(wrong)}"


@probing(
    "every node accepts a TCP connection on its HTTPS port (443), so the silence was the node's",
    _prefetch(_REACHABLE),
)
def reachable(every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe) -> None:
    """The control of the silent probes above (SECW-02, SECW-04): a node that cannot be reached
    at all (powered off, a wrong address map) answers no port either, which would pass for a
    closed SSH port or a dropped packet."""
    results = wire.results(_REACHABLE(every_node, systems))
    _record(observe, f"TCP connections to HTTPS port {HTTPS}", results)
    silent = [f"{name}: {r.outcome}" for name, r in results if r.outcome != "accepted"]
    assert not silent, f"nodes not reached on their HTTPS port: {', '.join(silent)}"


def _sip_options(nodes: list[WireNode], systems: Systems) -> Named[sip.SipProbe]:
    """SIP OPTIONS to every Conferencing Node over UDP, TCP and TLS on the site's ports."""
    wizard = systems.site.pexip.security_wizard
    transports = {"udp": wizard.sip_udp_port, "tcp": wizard.sip_tcp_port}
    transports["tls"] = wizard.sip_tls_port
    timeout = systems.site.verification.answer_timeout
    return [
        (
            f"{node.name} {transport.upper()} {port}",
            probe(
                sip.options,
                node.endpoint(systems, port),
                transport=transport,
                server_name=node.fqdn,
                timeout=timeout,
            ),
        )
        for node in nodes
        if node.conferencing
        for transport, port in transports.items()
    ]


@probing(
    "every Conferencing Node answers SIP OPTIONS over UDP, TCP and TLS on the site's SIP "
    "listen ports",
    _prefetch(_sip_options),
)
def sip_ports(every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-07: the wizard's SIP listen ports are the site's, on each deployment."""
    for deployment in sorted({n.deployment for n in every_node}):
        if not any(n.conferencing for n in every_node if n.deployment == deployment):
            pytest.fail(f"the {deployment} deployment has no Conferencing Node to probe")
    results = wire.results(_sip_options(every_node, systems))
    _record(observe, "SIP OPTIONS", results)
    silent = [name for name, r in results if not r.answered]
    assert not silent, f"no SIP answer from: {', '.join(silent)}"


def _admin_requests(host: str | None) -> Plan:
    """GET the Administrator interface's login page of every Management Node, with ``host``
    as the Host header (None: the node's own FQDN), verified with its deployment's CA bundle."""

    def plan(nodes: list[WireNode], systems: Systems) -> Named[http.HttpExchange]:
        site = systems.site
        return [
            (
                node.name,
                probe(
                    http.request,
                    node.endpoint(systems, HTTPS),
                    ADMIN_LOGIN,
                    server_name=node.fqdn,
                    ca_bundle=site.file(getattr(site.systems.pexip, node.deployment).ca_bundle),
                    host_header=host or node.fqdn,
                    timeout=site.verification.connect_timeout,
                ),
            )
            for node in nodes
            if not node.conferencing
        ]

    return plan


_FOREIGN_HOST = _admin_requests(http.FOREIGN_HOST)
_OWN_HOST = _admin_requests(None)


@probing(
    "every Management Node refuses a request to the Administrator interface with a foreign "
    "Host header",
    _prefetch(_FOREIGN_HOST),
)
def foreign_host_refused(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SECW-09: the management web validates Host headers (Django answers 400)."""
    results = wire.results(_FOREIGN_HOST(every_node, systems))
    _record(observe, f"GET {ADMIN_LOGIN} with Host: {http.FOREIGN_HOST}", results)
    wrong = [f"{name}: {r.status or r.error}" for name, r in results if r.status != 400]
    assert not wrong, f"foreign Host header not refused with 400 by: {', '.join(wrong)}"


@probing(
    "every Management Node answers the same request when the Host header is its own FQDN",
    _prefetch(_OWN_HOST),
)
def own_host_answered(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """The refusal above is about the Host header, not the request."""
    results = wire.results(_OWN_HOST(every_node, systems))
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

    def plan(nodes: list[WireNode], systems: Systems) -> Named[snmp.SnmpObservation]:
        timing = systems.site.verification
        timeout = timing.silence_timeout if silence else timing.answer_timeout
        return [
            (
                f"{node.name}: {what}",
                probe(
                    snmp.get,
                    node.endpoint(systems, SNMP),
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
def snmp_sha_aes(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SNMP-04: the one request an SNMPv3 read-only node answers."""
    results = wire.results(_SNMP_SHA_AES(every_node, systems))
    _record(observe, "SNMP GET sysDescr.0", results)
    silent = [f"{name} ({r.outcome}: {r.detail})" for name, r in results if not r.answered]
    assert not silent, f"no SNMPv3 SHA1/AES-128 answer from: {', '.join(silent)}"


@probing(
    "no node answers the site's user with MD5 authentication or DES privacy",
    _prefetch(_SNMP_WEAK),
)
def snmp_no_md5_des(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SNMP-04: the same user and passwords with a weaker protocol get no data."""
    results = wire.results(_SNMP_WEAK(every_node, systems))
    _record(observe, "SNMP GET sysDescr.0 with weaker protocols", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered with weaker protocols: {', '.join(answered)}"


@probing(
    'no node answers SNMPv1 or SNMPv2c, with the community "public" or the site\'s community',
    _prefetch(_SNMP_COMMUNITIES),
)
def snmp_no_v1_v2c(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SNMP-04: communities are SNMPv1/v2c; an SNMPv3 read-only node ignores them."""
    results = wire.results(_SNMP_COMMUNITIES(every_node, systems))
    _record(observe, "SNMP GET sysDescr.0 with a community", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered SNMPv1/v2c: {', '.join(answered)}"
