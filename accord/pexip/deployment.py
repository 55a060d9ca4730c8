"""A Pexip deployment as the guide talks about it, read through the management API.

Each method is one list (or singleton) read, however many nodes or locations there are.
"""

from __future__ import annotations

from typing import Any

from accord.pexip.client import STATUS, PexipClient

Obj = dict[str, Any]


class Deployment:
    """The primary or contingency deployment, read-only."""

    def __init__(self, client: PexipClient, name: str) -> None:
        self.client = client
        self.name = name

    def global_settings(self) -> Obj:
        """Platform Configuration > Global Settings."""
        return self.client.get_one("global")

    def authentication(self) -> Obj:
        """Users > Administrator Authentication (older versions: User Authentication)."""
        return self.client.get_one("authentication")

    def management_nodes(self) -> list[Obj]:
        return self.client.list("management_vm")

    def conferencing_nodes(self) -> list[Obj]:
        return self.client.list("worker_vm")

    def nodes(self) -> list[Obj]:
        """The Management Node and every Conferencing Node."""
        return self.management_nodes() + self.conferencing_nodes()

    def locations(self) -> list[Obj]:
        return self.client.list("system_location")

    def roles(self) -> list[Obj]:
        """Users > Administrator Roles (older versions: Account Roles)."""
        return self.client.list("role")

    def role_mappings(self) -> list[Obj]:
        """Users > LDAP Role Mappings (older versions: LDAP Roles)."""
        return self.client.list("ldap_role")

    def dns_servers(self) -> list[Obj]:
        return self.client.list("dns_server")

    def ntp_servers(self) -> list[Obj]:
        return self.client.list("ntp_server")

    def syslog_servers(self) -> list[Obj]:
        return self.client.list("syslog_server")

    def licences(self) -> list[Obj]:
        return self.client.list("licence")

    def node_status(self) -> list[Obj]:
        return self.client.list("worker_vm", api=STATUS)
