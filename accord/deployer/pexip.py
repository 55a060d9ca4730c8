"""Plan and apply the guide's secure baseline on a Management Node.

`plan` reads the current state (one list call per resource type, however many nodes and
locations there are), compares it field by field with `accord.pexip.baseline`, and returns the
changes; `apply` performs them through the same client the verification uses (a writable one).
A second `plan` after `apply` is empty. Secret values are never shown: a plan says only that a
secret differs from the site's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from accord.deployer.pki import CertificateChange
from accord.pexip import baseline
from accord.pexip.baseline import Desired, Related
from accord.pexip.client import PexipClient
from accord.secrets import Secret
from accord.site import Site

RESOURCES = (
    "global",
    "authentication",
    "management_vm",
    "worker_vm",
    "system_location",
    "dns_server",
    "ntp_server",
    "syslog_server",
    "permission",
    "role",
    "ldap_role",
    "licence",
)
SINGLETONS = frozenset({"global", "authentication"})  # listed: exactly one object each


@dataclass(frozen=True)
class FieldChange:
    field: str
    current: Any
    desired: Any

    def describe(self) -> str:
        if isinstance(self.desired, Secret):
            was = "set to another value" if self.current else "not set"
            return f"{self.field}: secret {was} -> the site's secret"
        if isinstance(self.desired, Related):
            was = "(none)" if self.current is None else list(self.current)
            return f"{self.field}: {was} -> {list(self.desired.values)}"
        return f"{self.field}: {self.current!r} -> {self.desired!r}"


@dataclass(frozen=True)
class Change:
    action: Literal["create", "update", "delete"]
    resource: str
    label: str
    uri: str | None = None
    fields: tuple[FieldChange, ...] = ()

    def describe(self) -> str:
        mark = {"create": "+", "update": "~", "delete": "-"}[self.action]
        head = f"  {mark} {self.action} {self.label}"
        return "\n".join([head, *(f"      {change.describe()}" for change in self.fields)])


@dataclass
class Plan:
    """Field changes, then the certificate bootstrap's steps (`accord.deployer.pki`)."""

    system: str
    changes: list[Change] = field(default_factory=list)
    certificates: list[CertificateChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes and not self.certificates

    def render(self) -> str:
        if self.empty:
            return f"{self.system}: no changes (the deployment follows the baseline)"
        count = len(self.changes) + len(self.certificates)
        lines = [f"{self.system}: {count} change(s)"]
        lines += [change.describe() for change in self.changes]
        lines += [change.describe() for change in self.certificates]
        return "\n".join(lines)


class State:
    """The current objects of every resource the baseline touches, read with list calls."""

    def __init__(self, client: PexipClient) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {
            r: client.list_singleton(r) if r in SINGLETONS else client.list(r) for r in RESOURCES
        }
        self._by_uri = {o["resource_uri"]: o for objs in self.objects.values() for o in objs}

    def find(self, resource: str, match: dict[str, Any]) -> dict[str, Any] | None:
        for obj in self.objects[resource]:
            if all(obj.get(k) == v for k, v in match.items()):
                return obj
        return None

    def keys_of(self, value: Any, related: Related) -> tuple[str, ...]:
        """Natural keys of a to-many value as read: embedded objects or URI strings."""
        keys = []
        for item in value or []:
            obj = item if isinstance(item, dict) else self._by_uri.get(item, {})
            keys.append(str(obj.get(related.key, item)))
        return tuple(keys)


def _differs(state: State, current: Any, desired: Any) -> bool:
    if isinstance(desired, Secret):
        return not baseline.secret_matches(current, desired)
    if isinstance(desired, Related):
        return state.keys_of(current, desired) != desired.values
    return current != desired


def _diff(state: State, obj: dict[str, Any], desired: dict[str, Any]) -> tuple[FieldChange, ...]:
    changes = []
    for name, want in desired.items():
        have = obj.get(name)
        if _differs(state, have, want):
            shown = state.keys_of(have, want) if isinstance(want, Related) else have
            changes.append(FieldChange(name, shown, want))
    return tuple(changes)


def _node_label(kind: str, obj: dict[str, Any]) -> str:
    return f"{kind} {obj['name']} ({obj['resource_uri']})"


def _roles(state: State, site: Site) -> Iterable[Change | Desired]:
    """ROLE-01..03 and the LDAP role mappings of AUTH-03."""
    for name in baseline.SHIPPED_ROLES:
        role = state.find("role", {"name": name})
        if role is None:
            continue
        keep = tuple(
            p["name"] for p in role["permissions"] if p["name"] not in baseline.LOG_AND_SNAPSHOT
        )
        yield Desired(
            "role",
            f'role "{name}"',
            {"permissions": Related("permission", "name", keep)},
            {"name": name},
        )
    yield Desired(
        "role",
        f'role "{baseline.AUDITOR_ROLE}"',
        {
            "name": baseline.AUDITOR_ROLE,
            "permissions": Related("permission", "name", baseline.AUDITOR_PERMISSIONS),
        },
        {"name": baseline.AUDITOR_ROLE},
    )
    for mapping in site.pexip.ldap.role_mappings:
        yield Desired(
            "ldap_role",
            f'LDAP role mapping "{mapping.name}"',
            {
                "name": mapping.name,
                "ldap_group_dn": mapping.group_dn,
                "roles": Related("role", "name", tuple(mapping.roles)),
            },
            {"name": mapping.name},
        )


def _desired(state: State, site: Site, contingency: bool) -> Iterable[Desired | Change]:
    yield from baseline.server_objects(site)
    yield from _roles(state, site)
    yield Desired("global", "global settings", baseline.global_fields(site.pexip), singleton=True)
    relations = baseline.server_relations(site.pexip)
    for node in state.objects["management_vm"]:
        fields = {**baseline.node_fields(site, node["name"]), **relations}
        yield Desired(
            "management_vm",
            _node_label("Management Node", node),
            fields,
            {"resource_uri": node["resource_uri"]},
        )
    for node in state.objects["worker_vm"]:
        yield Desired(
            "worker_vm",
            _node_label("Conferencing Node", node),
            baseline.node_fields(site, node["name"]),
            {"resource_uri": node["resource_uri"]},
        )
    for location in state.objects["system_location"]:
        yield Desired(
            "system_location",
            _node_label("location", location),
            baseline.location_fields(site.pexip),
            {"resource_uri": location["resource_uri"]},
        )
    if contingency:
        for licence in state.objects["licence"]:
            yield Change(
                "delete",
                "licence",
                f"licence {licence['resource_uri']} "
                "(the contingency deployment runs without licensing)",
                licence["resource_uri"],
            )
    yield Desired(
        "authentication",
        "administrator authentication",
        baseline.authentication_fields(site, contingency=contingency),
        singleton=True,
    )


def plan(client: PexipClient, site: Site, system: str, *, contingency: bool = False) -> Plan:
    """The changes that bring this Management Node to the site's baseline (nothing is written)."""
    state = State(client)
    result = Plan(system)
    for item in _desired(state, site, contingency):
        if isinstance(item, Change):
            result.changes.append(item)
            continue
        obj = (
            state.objects[item.resource][0]
            if item.singleton
            else state.find(item.resource, item.match)
        )
        if obj is None:
            created = tuple(FieldChange(k, None, v) for k, v in item.fields.items())
            result.changes.append(Change("create", item.resource, item.label, None, created))
            continue
        changes = _diff(state, obj, item.fields)
        if changes:
            result.changes.append(
                Change("update", item.resource, item.label, obj["resource_uri"], changes)
            )
    return result


class _Uris:
    """Natural key -> resource URI, kept current as the apply creates objects."""

    def __init__(self, client: PexipClient) -> None:
        self._client = client
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def resolve(self, related: Related) -> list[str]:
        if related.resource not in self._cache:
            self._cache[related.resource] = self._client.list(related.resource)
        index = {str(o[related.key]): o["resource_uri"] for o in self._cache[related.resource]}
        missing = [value for value in related.values if value not in index]
        if missing:
            raise LookupError(f"{related.resource} {missing} not found on the Management Node")
        return [index[value] for value in related.values]

    def created(self, resource: str) -> None:
        self._cache.pop(resource, None)


class LockoutRefused(RuntimeError):
    """Requiring client certificates now would lock the deployer out; nothing was changed."""


def apply(client: PexipClient, plan_: Plan) -> None:
    """Perform a plan's changes in order, but administrator authentication: that is
    `apply_authentication`'s, once the trusted CA list is in place (`accord.deployer.pki`)."""
    uris = _Uris(client)
    for change in plan_.changes:
        if change.resource == "authentication":
            continue
        body = {
            fc.field: uris.resolve(fc.desired) if isinstance(fc.desired, Related) else fc.desired
            for fc in change.fields
        }
        if change.action == "create":
            client.create(change.resource, body)
            uris.created(change.resource)
        elif change.action == "update":
            assert change.uri is not None
            client.update(change.uri, body)
        else:
            assert change.uri is not None
            client.delete(change.uri)


def apply_authentication(client: PexipClient, plan_: Plan) -> list[str]:
    """Change administrator authentication in the guide's order; return what was done.

    1. "LDAP server connection details": the LDAP settings, with the source "LDAP database and
       local database" while it is to become "LDAP database" (so the local account still works).
    2. "Enable certificate-based authentication": "Require client certificate", then a read
       through the client's own certificate confirms that it is accepted.
    3. "Disable local authentication": the source "LDAP database", confirmed the same way.

    Raises `LockoutRefused` before step 2 when the client presents no certificate (the site
    names no ``client_certificates.administrator``): the node would lock it out.
    `PexipApiError` when a confirmation read is refused: the message says which step.
    """
    change = next((c for c in plan_.changes if c.resource == "authentication"), None)
    if change is None:
        return []
    assert change.uri is not None
    wanted = {fc.field: fc.desired for fc in change.fields}
    source = wanted.pop("source", None)
    certificate = wanted.pop("client_certificate", None)
    done: list[str] = []
    first = dict(wanted)
    if source == "LDAP":
        first["source"] = "LDAP+LOCAL"
    elif source is not None:
        first["source"] = source
    if first:
        client.update(change.uri, first)
        done.append("administrator authentication: LDAP settings (" + ", ".join(first) + ")")
    if certificate is not None:
        if certificate != "NO" and not client.presents_certificate:
            raise LockoutRefused(
                f"{plan_.system}: not requiring client certificates: the site names no "
                f"client_certificates.administrator for this system, so the deployer would be "
                "locked out"
            )
        client.update(change.uri, {"client_certificate": certificate})
        client.get(change.uri)
        done.append(f"administrator authentication: client certificate {certificate} (confirmed)")
    if source == "LDAP":
        client.update(change.uri, {"source": source})
        client.get(change.uri)
        done.append("administrator authentication: source LDAP database only (confirmed)")
    return done
