"""Status resource definitions (``/api/admin/status/v1/``): all read-only (GET only).

Fields from pexip-api-reference.md §3 (node status) and §7–8 (licensing, alarms); only the
subset the simulator derives. Alarms are stored; the others are computed (see ``status``).
"""

from __future__ import annotations

import dataclasses

from simulator.pexip.fields import BooleanField, DateTimeField, Field, IntegerField, StringField
from simulator.pexip.resourcedef import READ, ResourceDef, id_field, uri_field

ALARM = ResourceDef(
    name="alarm",
    api="status",
    verbose_name="Alarm",
    list_methods=READ,
    detail_methods=READ,
    fields={
        "id": id_field(),
        "identifier": IntegerField(readonly=True, default=0),
        "level": StringField(readonly=True, default="error"),
        "name": StringField(readonly=True),
        "details": StringField(readonly=True, max_length=8096),
        "instance": StringField(readonly=True, max_length=250),
        "node": StringField(readonly=True, help_text="The IPv4 address of the node."),
        "acknowledged": BooleanField(readonly=True),
        "time_raised": DateTimeField(),
        "resource_uri": uri_field(),
    },
)


def _status(name: str, verbose: str, fields: dict[str, Field]) -> ResourceDef:
    ro = {k: dataclasses.replace(v, readonly=True) for k, v in fields.items()}
    return ResourceDef(
        name=name,
        api="status",
        verbose_name=verbose,
        list_methods=READ,
        detail_methods=READ,
        computed=True,
        fields={"id": id_field(), **ro, "resource_uri": uri_field()},
    )


_sync = {
    "sync_status": StringField(default="SYNCED"),
    "version": StringField(),
    "last_updated": DateTimeField(),
    "configuration_id": IntegerField(),
}

STATUS_MANAGEMENT_VM = _status(
    "management_vm",
    "Management node status",
    {"name": StringField(), "primary": BooleanField(), **_sync},
)
STATUS_WORKER_VM = _status(
    "worker_vm",
    "Conferencing node status",
    {
        "name": StringField(),
        "node_type": StringField(),
        "system_location": StringField(help_text="The name of the node's system location."),
        "deploy_status": StringField(default="DEPLOYED"),
        "maintenance_mode": BooleanField(),
        "maintenance_mode_reason": StringField(),
        **_sync,
    },
)
STATUS_LICENSING = _status(
    "licensing",
    "Licensing status",
    {
        f"{kind}_{what}": IntegerField(default=0)
        for kind in ("port", "system", "vmr", "audio")
        for what in ("total", "count")
    },
)
