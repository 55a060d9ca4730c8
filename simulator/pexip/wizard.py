"""The security wizard: the answers a Management Node's console ``securitywizard`` records.

The real wizard is console-only (no management API field holds any of its answers), so the
simulator keeps them in its state and exposes them under ``/_sim/security_wizard`` only; the
node listeners (``listeners``, ``nodetls``) behave as the answers say.

Answers, their factory defaults (the wizard's defaults in brackets in the guide) and the
guide's secure values:

==================================  ===============================  =========  ======
answer                              the wizard's question            default    guide
==================================  ===============================  =========  ======
``fips_mode``                       Enable FIPS 140-2 compliance     false      true
``disable_system_administrator``    Disable system administrator     false      true
``accept_icmpv6_redirects``         Accept ICMPv6 redirects          true       false
``drop_closed_port_packets``        Drop ... closed ports            true       true
``accept_multicast_icmpv6_echo``    Accept multicast ICMPv6 echo     true       false
``ipv6_duplicate_address_detection`` Enable IPv6 DAD                  true       false
``sip_udp_port``                    SIP UDP listen port              5060       site
``sip_tcp_port``                    SIP TCP listen port              5060       site
``sip_tls_port``                    SIP TLS listen port              5061       site
``web_sessions_total``              Active management web sessions   0          100
``web_sessions_per_user``           Active per-user web sessions     0          10
``validate_host_headers``           Management web host headers      false      true
``tls10``                           Enable TLS 1.0                   true       false
``anonymous_dh_outbound``           Anonymous DH outbound SIP/TLS    true       false
==================================  ===============================  =========  ======

A session limit of 0 means no limit (the wizard's default).

INFERRED (the guide does not say): the wizard's answers are platform-wide: the wizard runs on
the Management Node and its answers apply to every node, Conferencing Nodes deployed later
included. Tests may make one node diverge (``nodes`` overrides), standing for a node that was
changed on its own console. A factory-fresh deployment has not completed the wizard.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from simulator.pexip.errors import ValidationError

RESOURCE = "security_wizard"

DEFAULTS: dict[str, bool | int] = {
    "fips_mode": False,
    "disable_system_administrator": False,
    "accept_icmpv6_redirects": True,
    "drop_closed_port_packets": True,
    "accept_multicast_icmpv6_echo": True,
    "ipv6_duplicate_address_detection": True,
    "sip_udp_port": 5060,
    "sip_tcp_port": 5060,
    "sip_tls_port": 5061,
    "web_sessions_total": 0,
    "web_sessions_per_user": 0,
    "validate_host_headers": False,
    "tls10": True,
    "anonymous_dh_outbound": True,
}
PORTS = ("sip_udp_port", "sip_tcp_port", "sip_tls_port")
LIMITS = ("web_sessions_total", "web_sessions_per_user")
MAX_SESSIONS = 10000
# Ports a node's own services use (HTTPS, SSH, HTTP redirect): SIP may not take them.
RESERVED_TCP = frozenset({22, 80, 443})


def factory() -> dict[str, Any]:
    """The wizard state of a factory-fresh deployment: not completed, default answers."""
    return {"completed": False, "answers": dict(DEFAULTS), "nodes": {}}


def _errors(answers: Mapping[str, Any], *, partial: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in answers.items():
        default = DEFAULTS.get(name)
        if default is None:
            errors[name] = ["Unknown security wizard answer."]
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                errors[name] = ["Must be true or false."]
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[name] = ["Must be an integer."]
        elif name in PORTS and not 1 <= value <= 65535:
            errors[name] = ["Must be a port number between 1 and 65535."]
        elif name in LIMITS and not 0 <= value <= MAX_SESSIONS:
            errors[name] = [f"Must be between 0 (no limit) and {MAX_SESSIONS}."]
    if not partial:
        for name in DEFAULTS:
            if name not in answers:
                errors.setdefault(name, ["This answer is required."])
    return errors


def _check_ports(answers: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    tcp, tls = answers["sip_tcp_port"], answers["sip_tls_port"]
    if tcp == tls:
        errors.setdefault("sip_tls_port", ["Must differ from the SIP TCP listen port."])
    for name in ("sip_tcp_port", "sip_tls_port"):
        if answers[name] in RESERVED_TCP:
            errors.setdefault(name, [f"Port {answers[name]} is used by another service."])


def run(state: dict[str, Any], body: Any) -> dict[str, Any]:
    """Running the wizard: ``body`` is ``{"answers": {...}}`` with some or all answers (the
    others keep their current values); the answers become the platform's, every node's
    divergence is dropped and the wizard is completed. Returns the new wizard state.

    Raises ``ValidationError`` (``{"security_wizard": {"<answer>": [...]}}``, nothing changed)
    for a body that is not ``{"answers": {...}}``, an unknown answer, a wrong type, a port out
    of range or taken, or a session limit out of range. Never anything else.
    """
    answers = _body_answers(body)
    merged = {**state["answers"], **answers}
    errors = _errors(answers, partial=True)
    if not errors:
        _check_ports(merged, errors)
    if errors:
        raise ValidationError(RESOURCE, errors)
    return {"completed": True, "answers": merged, "nodes": {}}


def diverge(state: dict[str, Any], body: Any, nodes: set[str]) -> dict[str, Any]:
    """Make single nodes differ from the platform's answers: ``body`` is ``{"nodes":
    {"<node resource_uri>": {<answers>}}}``; returns the new wizard state.

    Raises ``ValidationError`` (nothing changed) for an unknown node (not in ``nodes``), an
    unknown answer, a wrong type or a value out of range.
    """
    if not isinstance(body, dict) or set(body) != {"nodes"} or not isinstance(body["nodes"], dict):
        raise ValidationError(RESOURCE, {"nodes": ['Send {"nodes": {"<node uri>": {...}}}.']})
    errors: dict[str, list[str]] = {}
    out = copy.deepcopy(state)
    for uri, answers in body["nodes"].items():
        if uri not in nodes:
            errors[uri] = ["No such Management Node or Conferencing Node."]
            continue
        if not isinstance(answers, dict):
            errors[uri] = ["Must be an object of answers."]
            continue
        for name, messages in _errors(answers, partial=True).items():
            errors[f"{uri} {name}"] = messages
        merged = {**effective(out, uri), **answers}
        if not errors:
            _check_ports(merged, errors)
        out["nodes"][uri] = {k: v for k, v in merged.items() if v != out["answers"][k]}
    if errors:
        raise ValidationError(RESOURCE, errors)
    return out


def _body_answers(body: Any) -> dict[str, Any]:
    if (
        not isinstance(body, dict)
        or set(body) - {"answers"}
        or not isinstance(body.get("answers"), dict)
    ):
        raise ValidationError(RESOURCE, {"answers": ['Send {"answers": {<answer>: <value>}}.']})
    return body["answers"]


def effective(state: Mapping[str, Any], node_uri: str) -> dict[str, Any]:
    """A node's answers: the platform's, with the node's own divergence."""
    return {**state["answers"], **state["nodes"].get(node_uri, {})}


def describe(state: Mapping[str, Any], nodes: list[str]) -> dict[str, Any]:
    """``GET /_sim/security_wizard``: completed, the platform's answers, and each node's."""
    return {
        "completed": state["completed"],
        "answers": dict(state["answers"]),
        "nodes": {uri: effective(state, uri) for uri in nodes},
    }


def check_snapshot(data: Any) -> dict[str, Any]:
    """A wizard state from a snapshot; ``ValueError`` says what is wrong."""
    if not isinstance(data, dict) or set(data) != {"completed", "answers", "nodes"}:
        raise ValueError("'security_wizard' must have keys completed, answers, nodes")
    if not isinstance(data["completed"], bool):
        raise ValueError("'security_wizard.completed' must be true or false")
    answers = data["answers"]
    if (
        not isinstance(answers, dict)
        or set(answers) != set(DEFAULTS)
        or _errors(answers, partial=False)
    ):
        raise ValueError("'security_wizard.answers' must hold every answer, each valid")
    nodes = data["nodes"]
    if not isinstance(nodes, dict) or any(
        not isinstance(v, dict) or _errors(v, partial=True) for v in nodes.values()
    ):
        raise ValueError("'security_wizard.nodes' must map node URIs to valid answers")
    return copy.deepcopy(data)
