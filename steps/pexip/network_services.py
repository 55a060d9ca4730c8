"""Steps for Securing network services: DNS, NTP and syslog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_bdd import given, then

from accord import inventory
from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, locations_of, shown

Obj = dict[str, Any]


@dataclass(frozen=True)
class ServerUsers:
    """The Management Node and the locations: the objects that name DNS/NTP/syslog servers."""

    management_nodes: list[Obj]
    locations: list[Obj]

    def each(self) -> list[tuple[str, Obj]]:
        """Each one, named (with its resource URI where two share a name)."""
        managers = self.management_nodes
        return [(f"Management Node {inventory.label(n, managers)}", n) for n in managers] + [
            (f"location {inventory.label(loc, self.locations)}", loc) for loc in self.locations
        ]


@given(
    "the Management Node and the locations of the primary deployment", target_fixture="server_users"
)
def server_users(primary: Deployment, systems: Systems) -> ServerUsers:
    managers = shown("Management Nodes of pexip-primary", primary.management_nodes())
    return ServerUsers(managers, locations_of(systems, "primary"))


def _addresses(obj: Obj, field: str) -> list[str]:
    return [server["address"] for server in obj.get(field) or []]


def _at_least(server_users: ServerUsers, field: str, count: int, observe: Observe) -> None:
    used = {name: _addresses(obj, field) for name, obj in server_users.each()}
    observe(f"{field} in use", used)
    short = {name: servers for name, servers in used.items() if len(set(servers)) < count}
    assert not short, f"fewer than {count} {field.replace('_', ' ')} in use: {short}"


@then("the Management Node and every location use at least two DNS servers")
def two_dns(server_users: ServerUsers, observe: Observe) -> None:
    _at_least(server_users, "dns_servers", 2, observe)


@then("the Management Node and every location use at least two NTP servers")
def two_ntp(server_users: ServerUsers, observe: Observe) -> None:
    _at_least(server_users, "ntp_servers", 2, observe)


@then("every NTP server they use has the site's key ID and key")
def ntp_keys(server_users: ServerUsers, site: Site, observe: Observe) -> None:
    declared = {server.address: server for server in site.pexip.network.ntp_servers}
    problems = []
    seen: dict[str, Obj] = {}
    for _name, obj in server_users.each():
        for server in obj.get("ntp_servers") or []:
            seen[server["resource_uri"]] = server
    for server in seen.values():
        address = server["address"]
        key_set = bool(server.get("key"))
        observe(f"NTP server {address}", {"key_id": server.get("key_id"), "key set": key_set})
        if not server.get("key_id") or not key_set:
            problems.append(f"{address} has no key authentication (key ID and key)")
        elif address in declared:
            want = declared[address]
            if server.get("key_id") != want.key_id or not baseline.secret_matches(
                server.get("key"), site.resolve(want.key)
            ):
                problems.append(f"{address} does not use the site's key ID and key")
        else:
            problems.append(f"{address} is not one of the site's NTP servers")
    assert not problems, "; ".join(problems)


@then("the Management Node uses at least one of the site's remote syslog servers")
def syslog(server_users: ServerUsers, site: Site, observe: Observe) -> None:
    declared = {server.address for server in site.pexip.network.syslog_servers}
    for node in server_users.management_nodes:
        used = _addresses(node, "syslog_servers")
        observe(f"Management Node {node['name']}: syslog servers", used)
        assert declared & set(used), (
            f"Management Node {node['name']} sends to no remote syslog server of the site "
            f"(uses {used}, the site's: {sorted(declared)})"
        )
