"""Steps for Users: administrator roles, authentication and LDAP role mappings."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, then

from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.site import Site
from steps.common import Observe, Subject, shown

Obj = dict[str, Any]


def _permission_names(role: Obj) -> list[str]:
    return [permission["name"] for permission in role.get("permissions", [])]


@given("the administrator roles of the primary deployment", target_fixture="roles")
def roles(primary: Deployment, observe: Observe) -> list[Obj]:
    found = shown("administrator roles of pexip-primary", primary.roles())
    observe("administrator roles", {role["name"]: _permission_names(role) for role in found})
    return found


@given("the LDAP role mappings of the primary deployment", target_fixture="mappings")
def mappings(primary: Deployment) -> list[Obj]:
    return primary.role_mappings()


@given(
    "the administrator authentication settings of the primary deployment", target_fixture="subject"
)
def authentication(primary: Deployment) -> Subject:
    return Subject(
        f"the administrator authentication of {primary.name}",
        primary.authentication(),
        baseline.AUTHENTICATION_LABELS,
    )


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


@then("the LDAP server address, LDAP bind username and LDAP base DN are the site's")
def ldap_connection(subject: Subject, site: Site, observe: Observe) -> None:
    ldap = site.pexip.ldap
    expected = {
        "LDAP server address": ldap.server,
        "LDAP bind username": ldap.bind_username,
        "LDAP base DN": ldap.base_dn,
    }
    actual = {label: subject.value(label) for label in expected}
    observe(f"{subject.name}: LDAP connection", actual)
    wrong = {label: actual[label] for label, value in expected.items() if actual[label] != value}
    assert not wrong, f"{subject.name} differs from the site: {wrong}; the site: {expected}"


@then("the LDAP bind password is the site's")
def ldap_bind_password(subject: Subject, site: Site, observe: Observe) -> None:
    matches = baseline.secret_matches(
        subject.value("LDAP bind password"), site.resolve(site.pexip.ldap.bind_password)
    )
    observe(f"{subject.name}: LDAP bind password is the site's", matches)
    assert matches, f"the LDAP bind password of {subject.name} is not the site's (or is not set)"


@then(parsers.parse('the LDAP bind username is a service account, not "{first}" or "{second}"'))
def bind_user_is_service_account(subject: Subject, first: str, second: str) -> None:
    user = str(subject.value("LDAP bind username") or "")
    account = user.split("\\")[-1].split("@")[0]
    if account.lower().startswith(("cn=", "uid=")):
        account = account.split(",")[0].split("=", 1)[1]
    assert account.lower() not in (first.lower(), second.lower()), (
        f"the LDAP bind username of {subject.name} is {user!r}; the guide: a domain user "
        "service account, not the Administrator account"
    )


@then("every administrator role is mapped to at least one LDAP group")
def every_role_mapped(roles: list[Obj], mappings: list[Obj], observe: Observe) -> None:
    mapped: dict[str, list[str]] = {role["resource_uri"]: [] for role in roles}
    for mapping in mappings:
        for uri in mapping.get("roles", []):
            mapped.setdefault(uri, []).append(mapping.get("ldap_group_dn", ""))
    names = {role["resource_uri"]: role["name"] for role in roles}
    observe(
        "LDAP groups per role",
        {names[uri]: groups for uri, groups in mapped.items() if uri in names},
    )
    unmapped = [names[uri] for uri in names if not mapped[uri]]
    assert not unmapped, f"role(s) {unmapped} are mapped to no LDAP group"


@then('"Require client certificate" is one of the Required options')
def client_certificate_required(subject: Subject, observe: Observe) -> None:
    value = subject.value("Require client certificate")
    observe(f"{subject.name}: Require client certificate", value)
    assert value in ("CN", "UPN"), (
        f'"Require client certificate" is {baseline.choice_label("client_certificate", value)} '
        f"in {subject.name}; the guide: one of the Required options"
    )
