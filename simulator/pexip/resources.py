"""The resource registry: every resource the simulator serves, by API and name.

The declarations are data, one module per family: ``global_resource`` (global settings),
``node_resources`` (Management and Conferencing Nodes, locations), ``service_resources`` (DNS,
NTP, syslog, licences), ``access_resources`` (authentication, roles, permissions, role
mappings), ``certificate_resources`` (TLS and CA certificates, CSRs), ``status_resources``
(alarms, node and licensing status). Each declares every field of the real resource
(pexip-api-reference.md; the real schema, Pexip's Go SDK models and Terraform provider) and says
there what it INFERRED. Values are case-sensitive.

What the whole API does, in one place (deviations from the real API and INFERRED choices):
- Allowed methods follow the reference's §1.5 table. PATCH and DELETE on a list (bulk update
  and delete-all on the real API) answer 405. ``management_vm``: list GET+POST, detail
  GET+PATCH+DELETE (the sourced table has no PUT); its table's detail POST has no known
  meaning and answers 405.
- A write reads only the fields a resource declares, as tastypie's ``full_hydrate`` does: a
  field the resource does not know is ignored, and so is a read-only field (``id``,
  ``resource_uri``, a certificate's parsed metadata...). Neither is an error; the request log
  (``/_sim/requests``) names them, so that Accord's own tests can insist that Accord's clients
  never send one. A write of what a read gave (the whole object, secrets as their hash,
  write-only fields as "", embedded related objects) changes nothing (``hydrate``).
"""

from __future__ import annotations

from simulator.pexip.access_resources import AUTHENTICATION, LDAP_ROLE, PERMISSION, ROLE
from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
    CERTIFICATE_SIGNING_REQUEST,
    TLS_CERTIFICATE,
)
from simulator.pexip.global_resource import GLOBAL
from simulator.pexip.node_resources import MANAGEMENT_VM, SYSTEM_LOCATION, WORKER_VM
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.service_resources import DNS_SERVER, LICENCE, NTP_SERVER, SYSLOG_SERVER
from simulator.pexip.status_resources import (
    ALARM,
    STATUS_LICENSING,
    STATUS_MANAGEMENT_VM,
    STATUS_WORKER_VM,
)

__all__ = [
    "ALARM",
    "AUTHENTICATION",
    "CA_CERTIFICATE",
    "CERTIFICATE_SIGNING_REQUEST",
    "DNS_SERVER",
    "GLOBAL",
    "LDAP_ROLE",
    "LICENCE",
    "MANAGEMENT_VM",
    "NTP_SERVER",
    "PERMISSION",
    "RESOURCES",
    "ROLE",
    "STATUS_LICENSING",
    "STATUS_MANAGEMENT_VM",
    "STATUS_WORKER_VM",
    "SYSLOG_SERVER",
    "SYSTEM_LOCATION",
    "TLS_CERTIFICATE",
    "WORKER_VM",
    "config",
    "index",
    "status",
    "stored_resources",
]

RESOURCES: dict[tuple[str, str], ResourceDef] = {
    (r.api, r.name): r
    for r in (
        GLOBAL,
        MANAGEMENT_VM,
        WORKER_VM,
        SYSTEM_LOCATION,
        ROLE,
        PERMISSION,
        LDAP_ROLE,
        AUTHENTICATION,
        DNS_SERVER,
        NTP_SERVER,
        SYSLOG_SERVER,
        LICENCE,
        TLS_CERTIFICATE,
        CERTIFICATE_SIGNING_REQUEST,
        CA_CERTIFICATE,
        STATUS_MANAGEMENT_VM,
        STATUS_WORKER_VM,
        ALARM,
        STATUS_LICENSING,
    )
}


def config(name: str) -> ResourceDef:
    """The configuration resource called ``name`` (KeyError if there is none)."""
    return RESOURCES[("configuration", name)]


def status(name: str) -> ResourceDef:
    """The status resource called ``name`` (KeyError if there is none)."""
    return RESOURCES[("status", name)]


def stored_resources() -> list[ResourceDef]:
    """Resources whose objects are kept in state (configuration resources and alarms)."""
    return [r for r in RESOURCES.values() if not r.computed]


def index(api: str) -> dict[str, dict[str, str]]:
    """The ``GET /api/admin/<api>/v1/`` document: each resource's list and schema URIs."""
    return {
        r.name: {"list_endpoint": r.list_uri, "schema": r.schema_uri}
        for r in RESOURCES.values()
        if r.api == api
    }
