"""Steps for Platform Configuration > Global Settings (the guide's "Global settings")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_bdd import parsers, then

from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.site import Site
from steps.common import Observe, Subject
from steps.pexip.common import show

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
    value = show(subject, label, observe)
    assert value == expected, f'"{label}" is {value!r} in {subject.name}; the site: {expected!r}'


@then("every call protocol that the site does not need is disabled")
def unneeded_protocols_disabled(subject: Subject, site: Site, observe: Observe) -> None:
    needed = set(site.pexip.global_.protocols)
    enabled = []
    for protocol, label in baseline.PROTOCOL_LABELS.items():
        value = show(subject, label, observe)
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
