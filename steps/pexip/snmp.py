"""Steps for SNMP: every node's SNMP settings as the API lists them, and what the nodes answer
on the wire (SNMP GET requests from the management station's user, `steps.pexip.wire`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_bdd import parsers, then

from accord import inventory
from accord.pexip import baseline
from accord.probes import snmp
from accord.probes.wire import Named, Wire, probe
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, probing
from steps.pexip.wire import Plan, WireNode, prefetch, record

Obj = dict[str, Any]
SNMP = 161


@then(parsers.parse('every node\'s "{label}" is "{choice}"'))
def every_node_choice(nodes: list[Obj], label: str, choice: str, observe: Observe) -> None:
    field = baseline.NODE_LABELS[label]
    expected = baseline.choice_value(field, choice)
    actual = {inventory.label(node, nodes): node.get(field) for node in nodes}
    observe(f"every node: {label} ({field})", actual)
    wrong = {
        name: baseline.choice_label(field, value)
        for name, value in actual.items()
        if value != expected
    }
    assert not wrong, f'"{label}" is not {choice} on node(s) {wrong}'


@then("every node's SNMPv3 username, authentication password and privacy password are the site's")
def snmp_credentials(nodes: list[Obj], site: Site, observe: Observe) -> None:
    snmp = site.pexip.snmp
    auth, privacy = site.resolve(snmp.authentication_password), site.resolve(snmp.privacy_password)
    problems = []
    for node in nodes:
        result = {
            "SNMPv3 username": node.get("snmp_username") == snmp.username,
            "SNMPv3 authentication password": baseline.secret_matches(
                node.get("snmp_authentication_password"), auth
            ),
            "SNMPv3 privacy password": baseline.secret_matches(
                node.get("snmp_privacy_password"), privacy
            ),
        }
        observe(f"node {node['name']}: SNMPv3 credentials are the site's", result)
        wrong = [label for label, ok in result.items() if not ok]
        if wrong:
            problems.append(f"{node['name']}: {', '.join(wrong)}")
    assert not problems, f"not the management station's SNMPv3 credentials: {'; '.join(problems)}"


@then(parsers.parse('no node\'s "{label}" is "{value}"'))
def no_node_value(nodes: list[Obj], label: str, value: str, observe: Observe) -> None:
    field = baseline.NODE_LABELS[label]
    offending = [node["name"] for node in nodes if node.get(field) == value]
    observe(f"nodes whose {label} is {value!r}", offending)
    assert not offending, f'"{label}" is "{value}" on node(s) {offending}'


# -- on the wire (SNMP-04) -----------------------------------------------------------------


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
    prefetch(_SNMP_SHA_AES),
)
def snmp_sha_aes(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SNMP-04: the one request an SNMPv3 read-only node answers."""
    results = wire.results(_SNMP_SHA_AES(every_node, systems))
    record(observe, "SNMP GET sysDescr.0", results)
    silent = [f"{name} ({r.outcome}: {r.detail})" for name, r in results if not r.answered]
    assert not silent, f"no SNMPv3 SHA1/AES-128 answer from: {', '.join(silent)}"


@probing(
    "no node answers the site's user with MD5 authentication or DES privacy",
    prefetch(_SNMP_WEAK),
)
def snmp_no_md5_des(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SNMP-04: the same user and passwords with a weaker protocol get no data."""
    results = wire.results(_SNMP_WEAK(every_node, systems))
    record(observe, "SNMP GET sysDescr.0 with weaker protocols", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered with weaker protocols: {', '.join(answered)}"


@probing(
    'no node answers SNMPv1 or SNMPv2c, with the community "public" or the site\'s community',
    prefetch(_SNMP_COMMUNITIES),
)
def snmp_no_v1_v2c(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SNMP-04: communities are SNMPv1/v2c; an SNMPv3 read-only node ignores them."""
    results = wire.results(_SNMP_COMMUNITIES(every_node, systems))
    record(observe, "SNMP GET sysDescr.0 with a community", results)
    answered = [name for name, r in results if r.answered]
    assert not answered, f"answered SNMPv1/v2c: {', '.join(answered)}"
