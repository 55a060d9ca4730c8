"""Status resource definitions (``/api/admin/status/v1/``): all read-only (GET only).

Every field of the real resources ([SCHEMA] ``status/alarm.md``, ``management_vm.md``,
``worker_vm.md``, ``licensing.md``; pexip-api-reference.md §3, §7, §8). Alarms are stored; the
others are computed (see ``status``, which says which values are INFERRED).
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


def _int(help: str) -> IntegerField:
    return IntegerField(default=0, help_text=help)


_sync = {
    "sync_status": StringField(default="SYNCED", help_text="Configuration sync state."),
    "upgrade_status": StringField(default="IDLE", help_text="Current upgrade status."),
    "version": StringField(help_text="The installed software version."),
    "last_updated": DateTimeField(help_text="When the node was last updated."),
    "last_attempted_contact": DateTimeField(help_text="When contact was last attempted."),
    "configuration_id": IntegerField(help_text="The key of the node's configuration."),
}

STATUS_MANAGEMENT_VM = _status(
    "management_vm",
    "Management node status",
    {
        "name": StringField(help_text="The node's name."),
        "primary": BooleanField(help_text="The primary Management Node."),
        **_sync,
    },
)
STATUS_WORKER_VM = _status(
    "worker_vm",
    "Conferencing node status",
    {
        "name": StringField(help_text="The node's name."),
        "node_type": StringField(help_text="The node's role."),
        "system_location": StringField(help_text="The name of the node's system location."),
        "deploy_status": StringField(default="DEPLOYED", help_text="Whether it reported."),
        "maintenance_mode": BooleanField(help_text="In maintenance mode."),
        "maintenance_mode_reason": StringField(help_text="Why maintenance mode is on."),
        "boot_time": DateTimeField(help_text="When the VM last booted."),
        "cpu_count": _int("Configured virtual CPUs."),
        "cpu_capabilities": StringField(default="AVX2", help_text="Best CPU instruction set."),
        "cpu_model": StringField(help_text="The CPU model."),
        "hypervisor": StringField(default="VMware", help_text="The hypervisor."),
        "total_ram": _int("Configured RAM in KB."),
        "media_load": _int("Media load."),
        "media_tokens_used": _int("Media tokens used by calls in progress."),
        "max_media_tokens": _int("Estimated media token capacity."),
        "max_audio_calls": _int("Estimated audio call capacity."),
        "max_sd_calls": _int("Estimated SD call capacity."),
        "max_hd_calls": _int("Estimated HD call capacity."),
        "max_full_hd_calls": _int("Estimated Full HD call capacity."),
        "max_direct_participants": _int("Direct media participant capacity."),
        "signaling_count": _int("Calls signalled through this node."),
        **_sync,
    },
)
LICENSING_KINDS = (
    "port",
    "system",
    "vmr",
    "audio",
    "teams",
    "ghm",
    "otj",
    "scheduling",
    "telehealth",
)
STATUS_LICENSING = _status(
    "licensing",
    "Licensing status",
    {
        **{
            f"{kind}_{what}": _int(f"{kind} licences: {what}.")
            for kind in LICENSING_KINDS
            for what in ("total", "count")
        },
        **{
            f"{feature}_active": BooleanField(help_text=f"The {feature} feature licence.")
            for feature in ("customlayouts", "googletrustedjoin", "zoomtrustedjoin")
        },
    },
)
