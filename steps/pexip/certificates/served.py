"""Steps for the TLS certificates every node serves on the wire.

They make real TLS handshakes and HTTPS requests (`accord.probes.tls`) to every node of each
deployment the site names (primary and contingency), each reached where its deployment's
address map says, on HTTPS (443) and the site's SIP TLS listen port, and compare what is served
with what that deployment's API assigns. Their probes are planned from the systems alone and
started when the run begins (`steps.common.probing`); their timeout is the site's
``[verification] connect_timeout``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.network import Endpoint
from accord.pexip.certificates import Node
from accord.pki import matches_hostname, to_pem
from accord.probes import tls
from accord.probes.wire import Named, Probe, Wire, probe
from accord.systems import Systems
from steps.common import Observe, probing
from steps.pexip.certificates.assigned import Platform, platforms

HTTPS = 443


@dataclass(frozen=True)
class Listener:
    """One TLS listener of a node of a deployment, where it is reached."""

    platform: Platform
    node: Node
    endpoint: Endpoint

    @property
    def name(self) -> str:
        return f"{self.node} ({self.platform.deployment})"


def _listeners(systems: Systems, *, sip_tls: bool) -> Iterator[Listener]:
    """Every node's HTTPS listener, or every Conferencing Node's SIP TLS listener on the site's
    SIP TLS listen port, in each deployment the site names."""
    port = systems.site.pexip.security_wizard.sip_tls_port if sip_tls else HTTPS
    for found in platforms(systems):
        nodes = found.certificates.conferencing_nodes if sip_tls else found.certificates.nodes
        for node in nodes:
            yield Listener(found, node, found.endpoint(node, port))


def _trust_file(platform: Platform) -> Path:
    """The deployment's trusted CA list's roots as a PEM file, named the same in every run (a
    probe's arguments identify it: the run's early start and a replay find it again)."""
    text = "".join(to_pem(c) for c in platform.certificates.trusted_roots())
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"accord-trust-{digest}"
    folder.mkdir(exist_ok=True)
    path = folder / f"trusted-roots-{platform.deployment}.pem"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text)
        partial.replace(path)
    return path


def _served_plan(systems: Systems, sip_tls: bool) -> list[tuple[Listener, Probe[Any], Probe[Any]]]:
    """Per listener: a handshake accepting anything, and a strict verification of the chain
    against the deployment's trusted roots (SNI: the node's FQDN)."""
    timeout = systems.site.verification.connect_timeout
    return [
        (
            one,
            probe(tls.handshake, one.endpoint, one.node.fqdn, timeout),
            probe(
                tls.verify,
                one.endpoint,
                one.node.fqdn,
                _trust_file(one.platform),
                timeout,
                check_name=False,
            ),
        )
        for one in _listeners(systems, sip_tls=sip_tls)
    ]


def _served_probes(sip_tls: bool) -> Callable[[Systems], list[Probe[Any]]]:
    def probes(systems: Systems) -> list[Probe[Any]]:
        return [p for _, shake, check in _served_plan(systems, sip_tls) for p in (shake, check)]

    return probes


def _served(systems: Systems, sip_tls: bool, wire: Wire, observe: Observe, what: str) -> None:
    plan = _served_plan(systems, sip_tls)
    shakes = dict(wire.results([(one.name, shake) for one, shake, _ in plan]))
    checks = dict(wire.results([(one.name, check) for one, _, check in plan]))
    problems, seen = [], {}
    for one, _, _ in plan:
        shake, check = shakes[one.name], checks[one.name]
        seen[one.name] = {"handshake": shake.observation(), "verification": check.observation()}
        if shake.error or not shake.chain:
            problems.append(f"{one.name}: no TLS at {one.endpoint}: {shake.error}")
            continue
        assigned = one.node.certificate
        if assigned is None or shake.leaf != assigned.leaf:
            problems.append(
                f"{one.name}: serves {tls.describe(shake.leaf)['subject']} "
                "serial {:x}, not its assigned certificate".format(shake.leaf.serial_number)
            )
        if not check.ok:
            problems.append(f"{one.name}: the served chain does not verify: {check.error}")
    observe(what, seen)
    assert plan, "no node to probe"
    assert not problems, "; ".join(problems)


@probing(
    "each node of each deployment the site names serves its assigned certificate with the full "
    "chain on HTTPS (443)",
    _served_probes(sip_tls=False),
)
def served_https(systems: Systems, wire: Wire, observe: Observe) -> None:
    _served(systems, False, wire, observe, "HTTPS handshakes (port 443)")


@probing(
    "each Conferencing Node of each deployment the site names serves its assigned certificate "
    "with the full chain on the site's SIP TLS listen port",
    _served_probes(sip_tls=True),
)
def served_sip(systems: Systems, wire: Wire, observe: Observe) -> None:
    port = systems.site.pexip.security_wizard.sip_tls_port
    _served(systems, True, wire, observe, f"SIP TLS handshakes (port {port})")


def _https_plan(systems: Systems, send: Callable[..., Any], *args: Any) -> Named[Any]:
    """``send(endpoint, fqdn, *args, timeout)`` to every node's HTTPS listener."""
    timeout = systems.site.verification.connect_timeout
    return [
        (one.name, probe(send, one.endpoint, one.node.fqdn, *args, timeout))
        for one in _listeners(systems, sip_tls=False)
    ]


@probing(
    "each node's HTTPS listener (443) in each deployment the site names presents a certificate "
    "valid for the node's FQDN",
    lambda systems: [p for _, p in _https_plan(systems, tls.handshake)],
)
def wire_fqdn(systems: Systems, wire: Wire, observe: Observe) -> None:
    listeners = list(_listeners(systems, sip_tls=False))
    shakes: list[tuple[str, tls.Handshake]] = wire.results(_https_plan(systems, tls.handshake))
    observe("HTTPS handshakes (port 443)", {name: s.observation() for name, s in shakes})
    bad = [
        name
        for one, (name, shake) in zip(listeners, shakes, strict=True)
        if shake.error or not shake.chain or not matches_hostname(shake.leaf, one.node.fqdn)
    ]
    assert shakes, "no node to probe"
    assert not bad, f"served certificates not valid for the node's FQDN: {bad}"


def _hsts_header(answer: tls.WebResponse) -> str:
    headers = {name.lower(): value for name, value in answer.headers.items()}
    return headers.get("strict-transport-security", "")


@probing(
    "the web responses of every Management Node and Conferencing Node of each deployment the "
    "site names carry HSTS",
    lambda systems: [p for _, p in _https_plan(systems, tls.web_get, "/")],
)
def hsts(systems: Systems, wire: Wire, observe: Observe) -> None:
    answers: list[tuple[str, tls.WebResponse]] = wire.results(
        _https_plan(systems, tls.web_get, "/")
    )
    observe("web responses", {name: a.observation() for name, a in answers})
    bad = [name for name, answer in answers if "max-age=" not in _hsts_header(answer)]
    assert answers, "no node to probe"
    assert not bad, f"no Strict-Transport-Security header: {bad}"
