"""Status resources derived live from configuration state.

``status/v1/management_vm`` and ``status/v1/worker_vm`` have one object per configured node,
with the same id as the node's configuration object (``configuration_id`` too).
``status/v1/licensing`` is one object (id 1) whose totals come from the installed licences.
(Alarms are stored state, not derived here: see ``PexipModel.raise_alarm``; the certificate
alarms are kept in step with the state by the model at every read, see ``certificates``.)

Every object starts from the defaults of its declared fields (``status_resources``), so it
always carries every field of the real resource.

INFERRED: every node is always ``SYNCED``, upgrade ``IDLE`` and ``DEPLOYED``, runs ``VERSION``,
and reports ``last_updated``, ``last_attempted_contact`` and ``boot_time`` = when the state was
last seeded or restored (stable between reads); a Conferencing Node's ``cpu_count`` and
``total_ram`` are its configured ``vm_cpu_count`` and ``vm_system_memory`` (in KB), its CPU
and hypervisor the declared defaults, its call capacities 0; every licence is a port licence,
so only ``port_total`` is non-zero; no calls are ever running, so every ``*_count`` is 0 and no
feature licence is active.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from simulator.pexip.fields import Key, format_time
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import LICENCE, MANAGEMENT_VM, SYSTEM_LOCATION, WORKER_VM
from simulator.pexip.state import State
from simulator.pexip.status_resources import (
    STATUS_LICENSING,
    STATUS_MANAGEMENT_VM,
    STATUS_WORKER_VM,
)

VERSION = "37.0"


def _blank(rdef: ResourceDef, key: Key, now: str) -> dict[str, Any]:
    """An object of ``rdef`` with every field at its default, and what every node shares."""
    out = {name: spec.initial() for name, spec in rdef.fields.items()}
    out.update(id=key, resource_uri=rdef.uri(key))
    if "version" in out:
        out.update(
            version=VERSION,
            last_updated=now,
            last_attempted_contact=now,
            configuration_id=key,
        )
    return out


def _management(state: State, now: str) -> dict[Key, dict[str, Any]]:
    rdef = STATUS_MANAGEMENT_VM
    out: dict[Key, dict[str, Any]] = {}
    for key, row in sorted(state.table(MANAGEMENT_VM).rows.items()):
        out[key] = _blank(rdef, key, now)
        out[key].update(name=row["name"], primary=row["primary"])
    return out


def _workers(state: State, now: str) -> dict[Key, dict[str, Any]]:
    rdef = STATUS_WORKER_VM
    locations = state.table(SYSTEM_LOCATION).rows
    out: dict[Key, dict[str, Any]] = {}
    for key, row in sorted(state.table(WORKER_VM).rows.items()):
        location = locations.get(row["system_location"])
        out[key] = _blank(rdef, key, now)
        out[key].update(
            name=row["name"],
            node_type=row["node_type"],
            system_location=location["name"] if location else "",
            maintenance_mode=row["maintenance_mode"],
            maintenance_mode_reason=row["maintenance_mode_reason"],
            boot_time=now,
            cpu_count=row["vm_cpu_count"],
            total_ram=row["vm_system_memory"] * 1024,
        )
    return out


def _licensing(state: State, now: str) -> dict[Key, dict[str, Any]]:
    obj = _blank(STATUS_LICENSING, 1, now)
    obj["port_total"] = sum(row["concurrent"] for row in state.table(LICENCE).rows.values())
    return {1: obj}


_DERIVED = {
    STATUS_MANAGEMENT_VM.name: _management,
    STATUS_WORKER_VM.name: _workers,
    STATUS_LICENSING.name: _licensing,
}


def derived_objects(
    rdef: ResourceDef, state: State, updated: dt.datetime
) -> dict[Key, dict[str, Any]]:
    """The objects of the computed status resource ``rdef``, keyed by id, in id order;
    ``updated`` is reported as the nodes' ``last_updated``."""
    return _DERIVED[rdef.name](state, format_time(updated))
