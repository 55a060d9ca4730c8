"""Steps for what the network sees of each node: the security wizard's answers on the wire.

Every step probes the nodes of the primary deployment where the site's address map says they
are reached (`accord.probes`: TLS negotiation, HTTP, TCP connect, SIP OPTIONS) and records each
probe's observation: what was sent and what came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_bdd import then

from accord.network import AddressMap, Endpoint
from accord.pexip.certificates import node_fqdn
from accord.probes import http, ports, sip, tls
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe

Obj = dict[str, Any]
HTTPS, SSH, CLOSED_TCP = 443, 22, 23  # 23 (telnet): a port no Pexip node listens on
CHACHA20_ONLY = (
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305"
)
AES_GCM = "ECDHE+AESGCM:DHE+AESGCM"
ADMIN_LOGIN = "/admin/login/"


def _conferencing(node: Obj) -> bool:
    return "/worker_vm/" in node["resource_uri"]


def _addresses(systems: Systems) -> AddressMap:
    return systems.addresses("primary")


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
    out = []
    for node, what, endpoint in _tls_listeners(nodes, systems, site):
        result = tls.negotiate(
            endpoint, server_name=node_fqdn(node), version=version, ciphers=ciphers
        )
        if not result.connected:
            raise AssertionError(
                f"{node['name']} {what} ({endpoint}): could not connect ({result.error}); "
                "a closed port proves nothing about TLS"
            )
        out.append((f"{node['name']} {what}", result))
    return out


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


@then("no node accepts connections on its SSH port")
def ssh_closed(nodes: list[Obj], systems: Systems, observe: Observe) -> None:
    """SECW-02: with the system administrator account disabled no node offers SSH."""
    addresses = _addresses(systems)
    results = [
        (node["name"], ports.tcp_connect(addresses.endpoint(node["address"], SSH), timeout=1.5))
        for node in nodes
    ]
    _record(observe, "TCP connections to port 22", results)
    open_ = [
        f"{name} ({r.banner or 'no banner'})" for name, r in results if r.outcome == "accepted"
    ]
    assert not open_, f"SSH port open on: {', '.join(open_)}"


@then("a TCP connection to a closed port of every node times out instead of being reset")
def closed_ports_drop(nodes: list[Obj], systems: Systems, observe: Observe) -> None:
    """SECW-04: a dropped SYN gets no answer at all; a rejected one gets a reset."""
    addresses = _addresses(systems)
    results = [
        (
            node["name"],
            ports.tcp_connect(addresses.endpoint(node["address"], CLOSED_TCP), timeout=1.5),
        )
        for node in nodes
    ]
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
    results = [
        (
            f"{node['name']} {transport.upper()} {port}",
            sip.options(
                addresses.endpoint(node["address"], port),
                transport=transport,  # type: ignore[arg-type]
                server_name=node_fqdn(node),
            ),
        )
        for node in conferencing
        for transport, port in transports.items()
    ]
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
