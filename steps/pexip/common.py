"""Steps several sections of the Pexip guide share: the primary deployment's global settings
and nodes, and the Then-steps that read one setting of a subject by the guide's words for it
(``"Chat" is disabled``, ``"Source" is "LDAP database"``...), whatever the subject (global
settings, administrator authentication).
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, then

from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.systems import Systems
from steps.common import Observe, Subject, nodes_of

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


# -- generic Then-steps on one subject --------------------------------------------------------


def show(subject: Subject, label: str, observe: Observe) -> Any:
    value = subject.value(label)
    observe(f"{subject.name}: {label} ({subject.field(label)})", value)
    return value


@then(parsers.parse('"{label}" is disabled'))
def is_disabled(subject: Subject, label: str, observe: Observe) -> None:
    value = show(subject, label, observe)
    assert value is False, f'"{label}" is {value!r} in {subject.name}; the guide: disable it'


@then(parsers.parse('"{label}" is enabled'))
def is_enabled(subject: Subject, label: str, observe: Observe) -> None:
    value = show(subject, label, observe)
    assert value is True, f'"{label}" is {value!r} in {subject.name}; the guide: enable it'


@then(parsers.parse('"{label}" is not selected'))
def is_not_selected(subject: Subject, label: str, observe: Observe) -> None:
    is_disabled(subject, label, observe)


@then(parsers.parse('"{label}" is "{choice}"'))
def is_choice(subject: Subject, label: str, choice: str, observe: Observe) -> None:
    value = show(subject, label, observe)
    field = subject.field(label)
    expected = baseline.choice_value(field, choice)
    assert value == expected, (
        f'"{label}" is {baseline.choice_label(field, value)} in {subject.name}; the guide: {choice}'
    )
