"""Steps for Users & Devices > Administrator roles (the guide's "Administrator roles")."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, then

from accord.pexip.deployment import Deployment
from steps.common import Observe, shown

Obj = dict[str, Any]


def _permission_names(role: Obj) -> list[str]:
    return [permission["name"] for permission in role.get("permissions", [])]


@given("the administrator roles of the primary deployment", target_fixture="roles")
def roles(primary: Deployment, observe: Observe) -> list[Obj]:
    found = shown("administrator roles of pexip-primary", primary.roles())
    observe("administrator roles", {role["name"]: _permission_names(role) for role in found})
    return found


def _role(roles: list[Obj], name: str) -> Obj:
    for role in roles:
        if role["name"] == name:
            return role
    raise AssertionError(f'there is no role named "{name}"; roles: {[r["name"] for r in roles]}')


@then(parsers.parse('the "{name}" role has neither "{first}" nor "{second}"'))
def role_lacks(roles: list[Obj], name: str, first: str, second: str) -> None:
    held = [p for p in (first, second) if p in _permission_names(_role(roles, name))]
    assert not held, f'the "{name}" role still has {held}; the guide: remove them'


@then(parsers.parse('a role named "{name}" has these permissions:'))
def role_has(roles: list[Obj], name: str, datatable: list[list[str]]) -> None:
    wanted = [row[0] for row in datatable[1:]]
    missing = [p for p in wanted if p not in _permission_names(_role(roles, name))]
    assert not missing, f'the "{name}" role lacks {missing}'
