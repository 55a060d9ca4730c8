"""Steps for Platform Configuration: global settings, nodes, IPv6 and locations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from accord import inventory
from accord.deviations import deviation
from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, Subject, locations_of, nodes_of, requirement_tags

Obj = dict[str, Any]


@given("the global settings of the primary deployment", target_fixture="subject")
def global_settings(primary: Deployment) -> Subject:
    """Platform Configuration > Global Settings of the primary Management Node."""
    settings = primary.global_settings()
    return Subject(f"the global settings of {primary.name}", settings, baseline.GLOBAL_LABELS)


@given("the nodes of the primary deployment", target_fixture="nodes")
def nodes(systems: Systems) -> list[Obj]:
    """The Management Node and every Conferencing Node (two list reads), as the site declares
    them."""
    return nodes_of(systems, "primary")


@given("every location of the primary deployment", target_fixture="locations")
def locations(systems: Systems) -> list[Obj]:
    return locations_of(systems, "primary")


@given("the site uses IPv6")
def site_uses_ipv6(site: Site) -> None:
    if not site.pexip.ipv6.enabled:
        pytest.skip("the site does not use IPv6 (pexip.ipv6.enabled = false)")


# -- generic Then-steps on one subject --------------------------------------------------------


def _show(subject: Subject, label: str, observe: Observe) -> Any:
    value = subject.value(label)
    observe(f"{subject.name}: {label} ({subject.field(label)})", value)
    return value


@then(parsers.parse('"{label}" is disabled'))
def is_disabled(subject: Subject, label: str, observe: Observe) -> None:
    value = _show(subject, label, observe)
    assert value is False, f'"{label}" is {value!r} in {subject.name}; the guide: disable it'


@then(parsers.parse('"{label}" is enabled'))
def is_enabled(subject: Subject, label: str, observe: Observe) -> None:
    value = _show(subject, label, observe)
    assert value is True, f'"{label}" is {value!r} in {subject.name}; the guide: enable it'


@then(parsers.parse('"{label}" is not selected'))
def is_not_selected(subject: Subject, label: str, observe: Observe) -> None:
    is_disabled(subject, label, observe)


@then(parsers.parse('"{label}" is "{choice}"'))
def is_choice(subject: Subject, label: str, choice: str, observe: Observe) -> None:
    value = _show(subject, label, observe)
    field = subject.field(label)
    expected = baseline.choice_value(field, choice)
    assert value == expected, (
        f'"{label}" is {baseline.choice_label(field, value)} in {subject.name}; the guide: {choice}'
    )


# The site's value for a global setting, by the words a scenario uses for it.
SITE_VALUES: dict[str, Callable[[Site], Any]] = {
    "management DSCP value": lambda site: site.pexip.global_.management_dscp,
    "OCSP responder URL": lambda site: site.pexip.global_.ocsp_responder_url,
    "login banner": lambda site: site.pexip.global_.login_banner,
    "session timeout": lambda site: site.pexip.global_.session_timeout_minutes,
}


@then(parsers.parse('"{label}" is the site\'s {what}'))
def is_site_value(subject: Subject, label: str, what: str, site: Site, observe: Observe) -> None:
    expected = SITE_VALUES[what](site)
    value = _show(subject, label, observe)
    assert value == expected, f'"{label}" is {value!r} in {subject.name}; the site: {expected!r}'


# -- global settings ----------------------------------------------------------------------


@then("every call protocol that the site does not need is disabled")
def unneeded_protocols_disabled(subject: Subject, site: Site, observe: Observe) -> None:
    needed = set(site.pexip.global_.protocols)
    enabled = []
    for protocol, label in baseline.PROTOCOL_LABELS.items():
        value = _show(subject, label, observe)
        if protocol not in needed and value is not False:
            enabled.append(label)
    assert not enabled, (
        f"{', '.join(enabled)} enabled in {subject.name}, but the site needs only "
        f"{sorted(needed) or 'none'}"
    )


@then("no node of the primary deployment overrides it to enable SSH")
def no_node_enables_ssh(primary: Deployment, observe: Observe) -> None:
    overriding = [node["name"] for node in primary.nodes() if node.get("enable_ssh") == "ON"]
    observe("nodes with Enable SSH = On", overriding)
    assert not overriding, f"SSH is enabled on node(s) {overriding} of {primary.name}"


def _range(subject: Subject, kind: str, start: int, end: int, observe: Observe) -> None:
    actual = (subject.obj.get(f"{kind}_ports_start"), subject.obj.get(f"{kind}_ports_end"))
    observe(f"{subject.name}: {kind} port range", actual)
    assert actual == (start, end), (
        f"the {kind} port range is {actual[0]}-{actual[1]} in {subject.name}; "
        f"the site declares {start}-{end}"
    )


@then("the signaling port range is the site's declared range")
def signalling_range(subject: Subject, site: Site, observe: Observe) -> None:
    ports = site.pexip.global_.signalling_ports
    _range(subject, "signalling", ports.start, ports.end, observe)


@then("the media port range is the site's declared range")
def media_range(subject: Subject, site: Site, observe: Observe) -> None:
    ports = site.pexip.global_.media_ports
    _range(subject, "media", ports.start, ports.end, observe)


@then("HTTP access for external systems is disabled")
def http_access_disabled(subject: Subject, observe: Observe) -> None:
    """No credentials for external systems: ``legacy_api_username``/``_password`` are empty."""
    username = subject.obj.get("legacy_api_username")
    password_set = bool(subject.obj.get("legacy_api_password"))
    observe(
        f"{subject.name}: HTTP access for external systems",
        {"legacy_api_username": username, "legacy_api_password set": password_set},
    )
    assert not username and not password_set, (
        f"HTTP access for external systems is enabled in {subject.name} "
        f"(username {username!r}, password {'set' if password_set else 'not set'})"
    )


# -- IPv6 ------------------------------------------------------------------------------------


@then("every node has the IPv6 address and IPv6 gateway that the site gives it")
def ipv6_everywhere(nodes: list[Obj], site: Site, observe: Observe) -> None:
    declared = site.pexip.ipv6.nodes
    problems = []
    for node in nodes:
        actual = (node.get("ipv6_address"), node.get("ipv6_gateway"))
        observe(f"node {node['name']}: IPv6 address and gateway", actual)
        if not actual[0] or not actual[1]:
            problems.append(f"{node['name']} has IPv6 address {actual[0]!r}, gateway {actual[1]!r}")
        elif node["name"] in declared:
            want = (declared[node["name"]].address, declared[node["name"]].gateway)
            if actual != want:
                problems.append(f"{node['name']} has {actual}, the site gives {want}")
    assert not problems, "; ".join(problems)


# -- locations -------------------------------------------------------------------------------


@then(parsers.parse("every location's \"{label}\" is the guide's value"))
def every_location(
    request: pytest.FixtureRequest,
    locations: list[Obj],
    label: str,
    site: Site,
    observe: Observe,
) -> None:
    """The value the deployer applies is the site file's; where it differs from the guide's,
    the evidence shows both and the scenario fails unless a waiver records the deviation
    (`accord.deviations`)."""
    field = baseline.LOCATION_LABELS[label]
    expected = baseline.location_fields(site.pexip)[field]
    actual = {inventory.label(loc, locations): loc.get(field) for loc in locations}
    found = [deviation(site, r) for r in requirement_tags(request.node)]
    deviating = next((d for d in found if d is not None), None)
    observe(
        f"every location: {label} ({field})",
        {
            "guide": deviating.guide if deviating else expected,
            "site": expected,
            "observed": actual,
            **({"deviation": deviating.describe()} if deviating else {}),
        },
    )
    wrong = {name: value for name, value in actual.items() if value != expected}
    assert locations, "the deployment has no locations"
    assert not wrong, f'"{label}" is not {expected} in location(s) {wrong}'
    assert deviating is None or deviating.waiver is not None, (
        f'"{label}": {deviating.describe()}; the site file chooses {deviating.site} where the '
        f"guide says {deviating.guide}: record the deviation in a waiver, or use the guide's"
    )


# The API's deployment types (Platform > Conferencing Nodes > Add: "Deployment type"): every
# "MANUAL-..." one is a manual deployment (ESXi, Hyper-V, KVM, Xen, or "Generic (configuration
# only)"); "VMWARE" is the automatic deployment through vCenter the guide rules out.
AUTOMATIC_DEPLOYMENT = "VMWARE"


@then("every Conferencing Node has a manual deployment type")
def manual_deployment(nodes: list[Obj], observe: Observe) -> None:
    workers = {
        inventory.label(n, nodes): n.get("deployment_type") for n in nodes if "deployment_type" in n
    }
    observe("deployment types", workers)
    assert workers, "no Conferencing Node lists a deployment type"
    automatic = {
        name: kind
        for name, kind in workers.items()
        if kind == AUTOMATIC_DEPLOYMENT or not str(kind).startswith("MANUAL-")
    }
    assert not automatic, f"not deployed manually: {automatic}"
