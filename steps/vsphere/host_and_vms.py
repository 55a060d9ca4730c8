"""Steps for the VMware layer: the Pexip VMs and their ESXi hosts, as vCenter shows them.

One read of the inventory (`accord.vsphere.inventory.Inventory`) per run (per scenario while
recording); the checks are the guide's, in its words.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytest_bdd import given, then

from accord import inventory
from accord.deployer.vsphere import FIRST_DISK, cpu_target, memory_target, site_vms
from accord.site import Site
from accord.systems import Systems
from accord.vsphere.inventory import Host, Inventory, Vm
from steps.common import Observe

LOCKDOWN_ON = ("lockdownNormal", "lockdownStrict")
TRUNK_VLAN = 4095


@dataclass
class Layer:
    """The site's Pexip VMs (by deployment) and the hosts that run them."""

    inventory: Inventory
    deployments: dict[str, str]  # VM name -> "primary" / "contingency"
    site: Site

    @property
    def vms(self) -> list[Vm]:
        missing = [n for n in self.deployments if n not in self.inventory.vms]
        assert not missing, f"Pexip VMs named in the site file not found in vCenter: {missing}"
        twice = [n for n in self.deployments if n in self.inventory.twice]
        assert not twice, f"vCenter has more than one VM named {twice}: which is the Pexip VM?"
        return [self.inventory.vms[n] for n in self.deployments]

    @property
    def hosts(self) -> list[Host]:
        names = list(dict.fromkeys(vm.host for vm in self.vms))
        declared = self.site.systems.vsphere.hosts if self.site.systems.vsphere else None
        problems = inventory.compare("ESXi hosts that run the Pexip VMs", names, declared)
        twice = [n for n in names if n in self.inventory.twice]
        if twice:
            problems.append(f"vCenter has more than one host named {twice}")
        assert not problems, "; ".join(problems)
        return [self.inventory.hosts[n] for n in names]


@given("the Pexip VMs and their ESXi hosts as vCenter shows them", target_fixture="layer")
def layer(systems: Systems) -> Layer:
    """A fixed number of property-collector reads, however many VMs there are."""
    if not systems.has_vsphere():
        pytest.skip("not run: the site names no vCenter ([systems.vsphere] and [vsphere])")
    return Layer(systems.inventory(), site_vms(systems.site), systems.site)


def _each(observe: Observe, what: str, seen: dict, bad: list[str]) -> None:
    observe(what, seen)
    assert not bad, f"{what}: " + "; ".join(bad)


# -- hosts -----------------------------------------------------------------------------------


@then("each host that runs a Pexip VM has at least two physical NICs")
def two_pnics(layer: Layer, observe: Observe) -> None:
    seen = {h.name: list(h.pnics) for h in layer.hosts}
    bad = [f"{h.name} has {len(h.pnics)}" for h in layer.hosts if len(h.pnics) < 2]
    _each(observe, "physical NICs", seen, bad)


@then("no physical NIC of a host's management network carries a Pexip VM's port group")
def management_apart(layer: Layer, observe: Observe) -> None:
    seen, bad = {}, []
    for host in layer.hosts:
        management = {n for g in host.management_portgroups for n in host.uplinks_of(g)}
        used = {g for vm in layer.vms if vm.host == host.name for g in vm.portgroups}
        shared = {g: sorted(management & set(host.uplinks_of(g))) for g in used}
        seen[host.name] = {
            "management": sorted(management),
            "Pexip port groups": {g: list(host.uplinks_of(g)) for g in used},
        }
        bad += [f"{host.name}: {g} shares {nics}" for g, nics in shared.items() if nics]
    _each(observe, "uplinks", seen, bad)


@then("each host that runs a Pexip VM is in lockdown mode")
def lockdown(layer: Layer, observe: Observe) -> None:
    seen = {h.name: h.lockdown_mode for h in layer.hosts}
    bad = [f"{n}: {m}" for n, m in seen.items() if m not in LOCKDOWN_ON]
    _each(observe, "lockdown mode", seen, bad)


@then("the SSH service is stopped on each of those hosts")
def ssh_stopped(layer: Layer, observe: Observe) -> None:
    seen = {h.name: h.ssh_running for h in layer.hosts}
    bad = [
        f"{n}: running" if r else f"{n}: not reported" for n, r in seen.items() if r is not False
    ]
    _each(observe, "SSH service running", seen, bad)


# -- VM resources ----------------------------------------------------------------------------


def _vm_check(layer: Layer, observe: Observe, what: str, value, wanted) -> None:  # noqa: ANN001
    seen = {vm.name: {"is": value(vm), "wanted": wanted(vm)} for vm in layer.vms}
    bad = [
        f"{n}: {v['is']} (wanted {v['wanted']})" for n, v in seen.items() if v["is"] != v["wanted"]
    ]
    _each(observe, what, seen, bad)


@then("each Pexip VM's CPU reservation is its vCPUs times the host's core MHz")
def cpu_reservation(layer: Layer, observe: Observe) -> None:
    _vm_check(
        layer, observe, "CPU reservation (MHz)",
        lambda vm: vm.cpu.reservation,
        lambda vm: cpu_target(vm, layer.inventory.host_of(vm).cpu_mhz).reservation,
    )  # fmt: skip


@then("each Pexip VM's CPU limit equals its CPU reservation")
def cpu_limit(layer: Layer, observe: Observe) -> None:
    _vm_check(
        layer, observe, "CPU limit (MHz)", lambda vm: vm.cpu.limit, lambda vm: vm.cpu.reservation
    )


@then('each Pexip VM\'s CPU shares are "Normal"')
def cpu_shares(layer: Layer, observe: Observe) -> None:
    _vm_check(layer, observe, "CPU shares", lambda vm: vm.cpu.shares, lambda vm: "normal")


@then('"Reserve all guest memory (All locked)" is set on each Pexip VM')
def memory_locked(layer: Layer, observe: Observe) -> None:
    _vm_check(
        layer, observe, "memory locked, reservation (MB)",
        lambda vm: (vm.locked_to_max, vm.memory.reservation),
        lambda vm: (True, memory_target(vm).reservation),
    )  # fmt: skip


@then("each Pexip VM's memory limit equals its memory reservation")
def memory_limit(layer: Layer, observe: Observe) -> None:
    _vm_check(
        layer, observe, "memory limit (MB)",
        lambda vm: vm.memory.limit, lambda vm: vm.memory.reservation,
    )  # fmt: skip


@then('each Pexip VM\'s memory shares are "Normal"')
def memory_shares(layer: Layer, observe: Observe) -> None:
    _vm_check(layer, observe, "memory shares", lambda vm: vm.memory.shares, lambda vm: "normal")


@then('every virtual disk of each Pexip VM has "Normal" shares')
def disk_shares(layer: Layer, observe: Observe) -> None:
    seen = {vm.name: {d.place: d.shares for d in vm.disks} for vm in layer.vms}
    bad = [
        f"{vm}: {p} {s}" for vm, disks in seen.items() for p, s in disks.items() if s != "normal"
    ]
    _each(observe, "disk shares", seen, bad)


@then("every virtual disk of each Pexip VM has an IOPS limit")
def disk_limits(layer: Layer, observe: Observe) -> None:
    seen = {vm.name: {d.place: d.iops_limit for d in vm.disks} for vm in layer.vms}
    bad = [f"{vm}: {p} unlimited" for vm, disks in seen.items() for p, v in disks.items() if v < 0]
    empty = [vm for vm, disks in seen.items() if not disks]
    _each(observe, "disk IOPS limits", seen, bad + [f"{vm}: no disk" for vm in empty])


@then("on each host the IOPS limits of all VMs add up to no more than the datastore's capacity")
def iops_total(layer: Layer, observe: Observe) -> None:
    assert layer.site.model.vsphere is not None
    capacity = layer.site.model.vsphere.datastore_iops_capacity
    seen, bad = {}, []
    by_host = layer.inventory.iops_limits()
    for host in layer.hosts:
        limits = by_host.get(host.name, [])
        total = sum(v for v in limits if v >= 0)
        seen[host.name] = {
            "total": total,
            "capacity": capacity,
            "unlimited disks": limits.count(-1),
        }
        if total > capacity:
            bad.append(f"{host.name}: {total} > {capacity}")
    _each(observe, "IOPS limits per host", seen, bad)


# -- BIOS --------------------------------------------------------------------------------------


@then("each Pexip VM boots from its hard drive first, and that is SCSI (0:0)")
def boot_order(layer: Layer, observe: Observe) -> None:
    seen = {vm.name: list(vm.boot_order) for vm in layer.vms}
    first = f"disk {FIRST_DISK}"
    bad = [f"{n}: {order or 'default order'}" for n, order in seen.items() if order[:1] != [first]]
    _each(observe, "boot order", seen, bad)


@then('each Pexip VM\'s firmware is BIOS and "Force BIOS setup" is not left on')
def firmware(layer: Layer, observe: Observe) -> None:
    seen = {
        vm.name: {"firmware": vm.firmware, "force BIOS setup": vm.enter_bios_setup}
        for vm in layer.vms
    }
    bad = [f"{n}: {v}" for n, v in seen.items() if v["firmware"] != "bios" or v["force BIOS setup"]]
    _each(observe, "firmware", seen, bad)


# -- VLANs and the contingency deployment ----------------------------------------------------


def _vlans(layer: Layer) -> dict[str, dict[str, int | None]]:
    seen: dict[str, dict[str, int | None]] = {}
    for vm in layer.vms:
        host = layer.inventory.host_of(vm)
        seen[vm.name] = {
            g: host.portgroups[g].vlan if g in host.portgroups else None for g in vm.portgroups
        }
    return seen


@then("no Pexip VM's port group uses VLAN ID 4095")
def no_trunk(layer: Layer, observe: Observe) -> None:
    seen = _vlans(layer)
    bad = [
        f"{vm}: {g}" for vm, groups in seen.items() for g, v in groups.items() if v == TRUNK_VLAN
    ]
    unknown = [
        f"{vm}: {g} not found" for vm, gs in seen.items() for g, v in gs.items() if v is None
    ]
    _each(observe, "VLAN IDs", seen, bad + unknown)


@then("no Pexip VM's port group uses a VLAN ID the site reserves")
def not_reserved(layer: Layer, observe: Observe) -> None:
    assert layer.site.model.vsphere is not None
    reserved = set(layer.site.model.vsphere.reserved_vlans)
    seen = _vlans(layer)
    observe("reserved VLAN IDs", sorted(reserved))
    bad = [f"{vm}: {g} VLAN {v}" for vm, gs in seen.items() for g, v in gs.items() if v in reserved]
    _each(observe, "VLAN IDs", seen, bad)


@then("every VM of the contingency deployment is powered off")
def contingency_off(layer: Layer, observe: Observe) -> None:
    vms = [vm for vm in layer.vms if layer.deployments[vm.name] == "contingency"]
    if not vms:
        pytest.skip("not applicable: the site names no contingency VMs ([vsphere.vms])")
    seen = {vm.name: vm.power_state for vm in vms}
    bad = [f"{n}: {s}" for n, s in seen.items() if s != "poweredOff"]
    _each(observe, "power state", seen, bad)
