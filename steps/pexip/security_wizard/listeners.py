"""Steps for the security wizard's answers that each node's listeners show on the wire: FIPS
140-2 mode and TLS 1.0 on every TLS listener, SSH closed, closed ports dropping, SIP listen
ports (`steps.pexip.wire`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from accord.network import Endpoint
from accord.probes import ports, sip, tls
from accord.probes.wire import Named, Wire, probe
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, probing
from steps.pexip.wire import HTTPS, Plan, WireNode, prefetch, record

SSH, CLOSED_TCP = 22, 23  # 23 (telnet): a port no Pexip node listens on
#: Every TLS <= 1.2 suite that is not FIPS-approved (approved: AES and 3DES ciphers), which
#: `tls.negotiate` offers together: ChaCha20-Poly1305 (TLS 1.2), Camellia, ARIA, SEED...
NOT_FIPS = "ALL:!AES:!3DES"
#: The one TLS 1.3 suite that is not FIPS-approved.
CHACHA20_TLS13 = "TLS_CHACHA20_POLY1305_SHA256"
AES_GCM = "ECDHE+AESGCM:DHE+AESGCM"


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


@probing(
    "no node's HTTPS or SIP TLS listener accepts a TLS 1.0, 1.1 or 1.2 handshake offering only "
    "cipher suites that are not FIPS-approved, such as ChaCha20-Poly1305, Camellia or ARIA",
    prefetch(_NOT_FIPS),
)
def fips_refuses_others(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """FIPS 140-2 mode (SECW-01), TLS 1.0 to 1.2: one handshake per listener and version
    offering every suite this client has whose cipher is neither AES nor 3DES; a listener
    that does not speak a version refuses it too (no non-approved suite is accepted)."""
    results = _negotiated(wire, _NOT_FIPS, every_node, systems)
    record(observe, f"TLS 1.0, 1.1 and 1.2 offering only {NOT_FIPS}", results)
    accepted = [f"{name} ({r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"non-FIPS cipher suites accepted by: {', '.join(accepted)}"


@probing(
    "no node's HTTPS or SIP TLS listener accepts a TLS 1.3 handshake offering only "
    "TLS_CHACHA20_POLY1305_SHA256",
    prefetch(_CHACHA20_TLS13),
)
def fips_refuses_chacha_tls13(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """FIPS 140-2 mode (SECW-01), TLS 1.3: what ``openssl s_client -tls1_3 -ciphersuites
    TLS_CHACHA20_POLY1305_SHA256`` offers (pyOpenSSL). A listener that does not speak TLS 1.3
    refuses it too, and rightly passes: it accepts no ChaCha20 there."""
    results = _negotiated(wire, _CHACHA20_TLS13, every_node, systems)
    record(observe, f"TLS 1.3 offering only {CHACHA20_TLS13}", results)
    accepted = [f"{name} ({r.cipher})" for name, r in results if r.accepted]
    assert not accepted, f"TLS 1.3 ChaCha20-Poly1305 accepted by: {', '.join(accepted)}"


@probing(
    "every node's HTTPS and SIP TLS listeners accept a TLS 1.2 handshake offering only AES-GCM",
    prefetch(_FIPS_AES),
)
def fips_accepts_aes(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """The same listeners do speak TLS with FIPS-approved suites (so a refusal means FIPS)."""
    results = _negotiated(wire, _FIPS_AES, every_node, systems)
    record(observe, "TLS 1.2 offering AES-GCM", results)
    refused = [f"{name} ({r.error})" for name, r in results if not r.accepted]
    assert not refused, f"AES-GCM refused by: {', '.join(refused)}"


@probing("no node's HTTPS or SIP TLS listener accepts a TLS 1.0 handshake", prefetch(_TLS10))
def tls10_refused(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SECW-10: the probe's own client offers TLS 1.0 (OpenSSL security level 0), so a
    refusal is the node's."""
    results = _negotiated(wire, _TLS10, every_node, systems)
    record(observe, "TLS 1.0 handshakes", results)
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


@probing("no node accepts a TCP connection on its SSH port (22)", prefetch(_SSH))
def ssh_closed(every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-02: with the system administrator account disabled no node offers SSH."""
    results = wire.results(_SSH(every_node, systems))
    record(observe, f"TCP connections to port {SSH}", results)
    open_ = [
        f"{name} ({r.banner or 'no banner'})" for name, r in results if r.outcome == "accepted"
    ]
    assert not open_, f"SSH port open on: {', '.join(open_)}"


@probing(
    "a TCP connection to a closed port (23) of every node times out instead of being reset",
    prefetch(_CLOSED),
)
def closed_ports_drop(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SECW-04: a dropped SYN gets no answer at all; a rejected one gets a reset."""
    results = wire.results(_CLOSED(every_node, systems))
    record(observe, f"TCP connections to closed port {CLOSED_TCP}", results)
    wrong = [f"{name}: {r.outcome}" for name, r in results if r.outcome != "timed out"]
    assert not wrong, f"closed ports not dropped: {', '.join(wrong)}"


@probing(
    "every node accepts a TCP connection on its HTTPS port (443), so the silence was the node's",
    prefetch(_REACHABLE),
)
def reachable(every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe) -> None:
    """The control of the silent probes above (SECW-02, SECW-04): a node that cannot be reached
    at all (powered off, a wrong address map) answers no port either, which would pass for a
    closed SSH port or a dropped packet."""
    results = wire.results(_REACHABLE(every_node, systems))
    record(observe, f"TCP connections to HTTPS port {HTTPS}", results)
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
    prefetch(_sip_options),
)
def sip_ports(every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe) -> None:
    """SECW-07: the wizard's SIP listen ports are the site's, on each deployment."""
    for deployment in sorted({n.deployment for n in every_node}):
        if not any(n.conferencing for n in every_node if n.deployment == deployment):
            pytest.fail(f"the {deployment} deployment has no Conferencing Node to probe")
    results = wire.results(_sip_options(every_node, systems))
    record(observe, "SIP OPTIONS", results)
    silent = [name for name, r in results if not r.answered]
    assert not silent, f"no SIP answer from: {', '.join(silent)}"
