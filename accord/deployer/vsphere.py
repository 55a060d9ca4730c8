"""Plan and apply the guide's VM settings through pyvmomi ("Reserving VM resources", "BIOS").

For each Pexip VM the site names: CPU reservation = vCPUs x the host's core MHz, limit =
reservation, shares Normal; all guest memory reserved and locked, limit = reservation, shares
Normal; every disk with Normal shares and the site's IOPS limit; boot order the hard drive SCSI
(0:0) first; firmware BIOS and "Force BIOS setup" off. The contingency deployment's VMs are
powered off. A plan whose IOPS limits would add up to more than a host's datastore capacity is
refused. VLAN IDs, NICs and host settings are never changed here: the scenarios report them.

vcsim replaces ``bootOptions`` and allocations rather than merging them, and so may a real
vCenter for some fields: every change sends complete objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyVim.task import WaitForTask
from pyVmomi import vim

from accord.site import Site
from accord.vsphere.inventory import Allocation, Inventory, Vm

# The share values vSphere gives the "Normal" level (per vCPU, per MB, per disk).
CPU_SHARES_PER_VCPU = 1000
MEMORY_SHARES_PER_MB = 10
DISK_SHARES = 1000
FIRST_DISK = "SCSI (0:0)"


class VspherePlanError(ValueError):
    """The site's values cannot be applied (an IOPS total over capacity, a VM not found)."""


@dataclass
class VmChange:
    """What one VM needs: a reconfiguration (field by field) and/or a power-off."""

    vm: Vm
    fields: list[str] = field(default_factory=list)
    spec: Any = None
    power_off: bool = False

    def describe(self) -> str:
        lines = [f"  ~ VM {self.vm.name}"]
        lines += [f"      {line}" for line in self.fields]
        if self.power_off:
            lines.append("      power: on -> off (contingency deployment)")
        return "\n".join(lines)


@dataclass
class VspherePlan:
    """VM changes, and the VLAN IDs of the Pexip VMs' port groups (reported, never changed)."""

    changes: list[VmChange] = field(default_factory=list)
    vlans: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def render(self) -> str:
        if self.empty:
            lines = ["vsphere: no changes (the VMs follow the guide)"]
        else:
            lines = [f"vsphere: {len(self.changes)} VM(s) to change"]
            lines += [c.describe() for c in self.changes]
        lines += [f"  = {line} (VLANs are the network team's: reported, never changed)"
                  for line in self.vlans]  # fmt: skip
        return "\n".join(lines)


def site_vms(site: Site) -> dict[str, str]:
    """VM name -> deployment ("primary" or "contingency") for the Pexip VMs the site names."""
    assert site.model.vsphere is not None
    vms = site.model.vsphere.vms
    return {**{n: "primary" for n in vms.primary}, **{n: "contingency" for n in vms.contingency}}


def cpu_target(vm: Vm, cpu_mhz: int) -> Allocation:
    reservation = vm.cpus * cpu_mhz
    return Allocation(reservation, reservation, "normal")


def memory_target(vm: Vm) -> Allocation:
    return Allocation(vm.memory_mb, vm.memory_mb, "normal")


def _allocation(target: Allocation, shares: int) -> Any:
    return vim.ResourceAllocationInfo(
        reservation=target.reservation,
        limit=target.limit,
        expandableReservation=False,
        shares=vim.SharesInfo(level="normal", shares=shares),
    )


def _disk_edits(vm: Vm, limit: int) -> tuple[list[Any], list[str]]:
    edits, described = [], []
    devices = {d.key: d for d in vm.devices}
    for disk in vm.disks:
        if disk.shares == "normal" and disk.iops_limit == limit:
            continue
        device = devices[disk.key]
        device.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(
            limit=limit, shares=vim.SharesInfo(level="normal", shares=DISK_SHARES)
        )
        edits.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=device))
        described.append(
            f"{disk.place}: IOPS limit {disk.iops_limit} -> {limit}, shares {disk.shares} -> normal"
        )
    return edits, described


def _first_disk(vm: Vm) -> int | None:
    return next((d.key for d in vm.disks if d.place == FIRST_DISK), None)


def _vm_change(vm: Vm, inventory: Inventory, site: Site, deployment: str) -> VmChange | None:
    assert site.model.vsphere is not None
    host = inventory.host_of(vm)
    change = VmChange(vm)
    spec = vim.vm.ConfigSpec()
    cpu = cpu_target(vm, host.cpu_mhz)
    if vm.cpu != cpu:
        spec.cpuAllocation = _allocation(cpu, CPU_SHARES_PER_VCPU * vm.cpus)
        change.fields.append(f"CPU: {vm.cpu} -> {cpu}")
    memory = memory_target(vm)
    if vm.memory != memory or not vm.locked_to_max:
        spec.memoryAllocation = _allocation(memory, MEMORY_SHARES_PER_MB * vm.memory_mb)
        spec.memoryReservationLockedToMax = True
        change.fields.append(f"memory: {vm.memory}, locked {vm.locked_to_max} -> {memory}, locked")
    edits, described = _disk_edits(vm, site.model.vsphere.disk_iops_limit)
    if edits:
        spec.deviceChange = edits
        change.fields += described
    first = _first_disk(vm)
    wanted_order = (f"disk {FIRST_DISK}",)
    if first is not None and (vm.boot_order[:1] != wanted_order or vm.enter_bios_setup):
        current = vm.boot_options
        spec.bootOptions = vim.vm.BootOptions(
            bootDelay=current.bootDelay if current is not None else 0,
            enterBIOSSetup=False,
            bootRetryEnabled=current.bootRetryEnabled if current is not None else False,
            bootRetryDelay=current.bootRetryDelay if current is not None else 10000,
            bootOrder=[vim.vm.BootOptions.BootableDiskDevice(deviceKey=first)],
        )
        change.fields.append(
            f"boot order: {list(vm.boot_order)} -> [{wanted_order[0]!r}], Force BIOS setup off"
        )
    if vm.firmware != "bios":
        spec.firmware = "bios"
        change.fields.append(f"firmware: {vm.firmware} -> bios")
    if change.fields:
        change.spec = spec
    change.power_off = deployment == "contingency" and vm.powered_on
    return change if change.fields or change.power_off else None


def _check_capacity(inventory: Inventory, site: Site, names: dict[str, str]) -> None:
    """Refuse a plan whose IOPS limits would exceed a host's datastore capacity."""
    assert site.model.vsphere is not None
    limit = site.model.vsphere.disk_iops_limit
    capacity = site.model.vsphere.datastore_iops_capacity
    limits = inventory.iops_limits(dict.fromkeys(names, limit))
    totals = {host: sum(v for v in disks if v >= 0) for host, disks in limits.items()}
    over = {host: total for host, total in totals.items() if total > capacity}
    if over:
        raise VspherePlanError(
            f"the IOPS limits would exceed the datastore capacity ({capacity}) on: "
            + ", ".join(f"{host} ({total})" for host, total in sorted(over.items()))
        )


def plan(si: Any, site: Site) -> VspherePlan:
    """What the Pexip VMs need (nothing is written); `VspherePlanError` if it cannot be done."""
    inventory = Inventory.read(si)
    names = site_vms(site)
    missing = sorted(n for n in names if n not in inventory.vms)
    if missing:
        raise VspherePlanError(f"VMs named in the site file not found in vCenter: {missing}")
    _check_capacity(inventory, site, names)
    result = VspherePlan()
    for host in inventory.hosts.values():
        used = {g for n in names if inventory.vms[n].host == host.name
                for g in inventory.vms[n].portgroups}  # fmt: skip
        for group in sorted(used & set(host.portgroups)):
            result.vlans.append(f"{host.name}: {group} VLAN {host.portgroups[group].vlan}")
    for name, deployment in names.items():
        change = _vm_change(inventory.vms[name], inventory, site, deployment)
        if change is not None:
            result.changes.append(change)
    return result


def apply(plan_: VspherePlan) -> None:
    """Reconfigure, then power off, each VM of the plan (waiting for every task)."""
    for change in plan_.changes:
        if change.spec is not None:
            WaitForTask(change.vm.raw.ReconfigVM_Task(spec=change.spec))
        if change.power_off:
            WaitForTask(change.vm.raw.PowerOffVM_Task())
