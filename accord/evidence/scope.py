"""What a run verified: every system the site file names, with where it was reached, and the
nodes, hosts, VMs and appliances those systems report, with versions where their APIs tell them.

`read_scope` is called once per site by the `systems` fixture (root conftest) before the site's
scenarios run, and only reads: the Pexip Management Nodes' node lists and status (version), the
vCenter's ``about`` and its hosts and the site's Pexip VMs, and the BeyondTrust appliances as the
site file names them (a real appliance has no API to ask). Nothing it cannot read fails the run:
it says what and why in its notes, which every report shows with the scope. A replay reads
nothing (the recording holds no such request): its scope is what the recorded site file names.
The scratch systems (where the guides' actions run) are listed as such, never as verified. A URL
is shown without any user or password in it, and the connections the read made are closed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from accord.evidence.model import InScope
from accord.pexip.client import STATUS
from accord.systems import DEPLOYMENTS, Systems, beyondtrust_appliances

SCRATCH = "scratch: the guides' actions only, not verified"


def read_scope(systems: Systems) -> tuple[list[InScope], list[str]]:
    """The site's systems and what they report; and a note for each thing not read."""
    items: list[InScope] = []
    notes: list[str] = []
    replay = systems.recorder is not None and systems.recorder.replay
    if replay:
        notes.append("a replay reads nothing: the systems are as the recorded site file names them")
    try:
        for reader in (_pexip, _vsphere, _beyondtrust):
            try:
                items += reader(systems, notes, read=not replay)
            except Exception as exc:  # noqa: BLE001 - a scope read never fails the run
                notes.append(f"{reader.__name__.strip('_')}: not read ({_why(exc)})")
    finally:
        # Its connections are not the scenarios': a recorded scenario makes its own inside its
        # cassette (accord.recording.plugin).
        systems.close()
    return [replace(i, address=_public(i.address)) for i in items], notes


def _pexip(systems: Systems, notes: list[str], read: bool) -> list[InScope]:
    site = systems.site
    items = []
    for role in (*DEPLOYMENTS, "scratch"):
        system = getattr(site.systems.pexip, role, None)
        if system is None:
            continue
        label = SCRATCH if role == "scratch" else f"{role} deployment"
        manager = InScope("Pexip deployment (Management Node API)", role, system.url, "", label)
        if role == "scratch" or not read:
            items.append(manager)
            continue
        try:
            items += _pexip_nodes(systems, role, manager)
        except Exception as exc:  # noqa: BLE001
            items.append(manager)
            notes.append(f"pexip {role}: nodes not read ({_why(exc)})")
    return items


def _pexip_nodes(systems: Systems, role: str, manager: InScope) -> list[InScope]:
    client = systems.pexip(role)
    versions = {
        (kind, str(row.get("name"))): str(row.get("version") or "")
        for kind in ("management_vm", "worker_vm")
        for row in client.list(kind, api=STATUS)
    }
    found = [manager]
    for kind, what in (("management_vm", "Management Node"), ("worker_vm", "Conferencing Node")):
        for row in client.list(kind):
            name = str(row.get("name", ""))
            fqdn = ".".join(p for p in (row.get("hostname"), row.get("domain")) if p)
            address = ", ".join(str(a) for a in (fqdn, row.get("address")) if a)
            version = versions.get((kind, name), "")
            found.append(InScope(f"Pexip {what}", name, address, version, manager.role))
    if found[1:]:
        found[0] = InScope(
            manager.kind, manager.name, manager.address, found[1].version, manager.role
        )
    return found


def _vsphere(systems: Systems, notes: list[str], read: bool) -> list[InScope]:
    site = systems.site
    system = site.systems.vsphere
    if system is None:
        return []
    wanted: dict[str, str] = {}
    if site.model.vsphere is not None:
        for deployment, names in site.model.vsphere.vms.model_dump().items():
            wanted |= {name: f"{deployment} deployment" for name in names or ()}
    named = [InScope("vCenter", "vsphere", system.url, "", "runs the Pexip VMs")] + [
        InScope("VM", name, "", "", role) for name, role in wanted.items()
    ]
    if not read:
        return named
    try:
        return _vsphere_read(systems, system.url, wanted, notes)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"vsphere: not read ({_why(exc)})")
        return named


def _vsphere_read(
    systems: Systems, url: str, wanted: dict[str, str], notes: list[str]
) -> list[InScope]:
    from accord.vsphere.inventory import Inventory

    si = systems.vsphere()
    about = si.content.about
    items = [InScope("vCenter", str(about.name), url, str(about.fullName), "runs the Pexip VMs")]
    inventory = Inventory.read(si)
    hosts = sorted({vm.host for name, vm in inventory.vms.items() if name in wanted})
    for name in hosts:
        host = inventory.hosts[name]
        items.append(InScope("ESXi host", name, "", _host_version(host.raw), "runs Pexip VMs"))
    for name, role in wanted.items():
        vm = inventory.vms.get(name)
        if vm is None:
            notes.append(f"vsphere: the site's VM {name} is not in vCenter")
            continue
        items.append(InScope("VM", name, f"on {vm.host}", "", f"{role}, {vm.power_state}"))
    return items


def _host_version(host: Any) -> str:
    try:
        return str(host.summary.config.product.fullName)
    except Exception:  # noqa: BLE001 - a version is a nicety
        return ""


def _beyondtrust(systems: Systems, notes: list[str], read: bool) -> list[InScope]:
    site = systems.site
    items = [
        InScope(
            "BeyondTrust appliance",
            appliance.name,
            str(appliance.endpoint),
            "",
            appliance.role.replace("_", " "),
        )
        for appliance in beyondtrust_appliances(site)
    ]
    system = site.systems.beyondtrust
    scratch = system.scratch if system is not None else None
    if scratch is not None:
        items.append(InScope("BeyondTrust appliance", scratch.name, scratch.hostname, "", SCRATCH))
    if items and read:
        notes.append("beyondtrust: a real appliance has no API that tells its version")
    return items


def _public(address: str) -> str:
    """An address as a report may show it: a URL without user or password."""
    parts = urlsplit(address)
    if not parts.scheme or "@" not in parts.netloc:
        return address
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
