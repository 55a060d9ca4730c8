"""Seed a running vcsim with a Pexip deployment as it stands after installation.

`seed(si, spec)` works only through the vSphere SOAP API (pyvmomi), as an administrator would:

- on every host, each standard switch the port groups name (``vSwitch1``) is added with the next
  physical NIC no switch uses as its only uplink (``vmnic1``; vSwitch0 keeps ``vmnic0``, the
  management VMkernel port ``vmk0`` and its "Management Network"), then the port groups with
  their VLAN IDs; the host's lockdown mode and SSH service are set as the spec says (by
  default compliant: ``lockdownNormal``, SSH stopped with policy "off");
- each VM is created on its host as a fresh, non-compliant deployment leaves it: no CPU or memory
  reservation, no limits (-1), shares Normal, ``memoryReservationLockedToMax`` false, disks on
  one LSI Logic controller (SCSI 0:0, 0:1...) with unlimited IOPS (-1) and Normal shares, the
  default boot options (empty boot order), BIOS firmware, a CD-ROM on IDE 0:0, a VMXNET3 NIC on
  its port group; then powered on unless the spec says otherwise.

Objects are looked up by name (vcsim's object IDs change from run to run). Every task is waited
for; a failed one raises `SeedError` naming the object.

What vcsim 0.24.2 (Debian's govmomi source) does, found against it through pyvmomi 9.1.1:

- ``ReconfigVM_Task`` replaces rather than merges: a ``cpuAllocation`` or ``memoryAllocation``
  sent with only a reservation reads back with limit and shares unset, and a ``bootOptions``
  sent with only ``enterBIOSSetup`` loses its boot order; always send complete objects.
  ``firmware`` and ``memoryReservationLockedToMax`` are replaced when sent. Invalid values are
  saved even when the task fails: a negative reservation or a limit below -1 fails the task with
  InvalidArgument, yet reads back (as do the firmware and boot options sent with it); a firmware
  such as "nonsense" and a boot order naming a device the VM lacks are accepted. Editing a
  device replaces the whole device and moves it to the end of the device list: a disk edited
  without its ``storageIOAllocation`` loses it; any IOPS limit or shares level is accepted; an
  edited device without ``deviceInfo`` makes vcsim drop the connection (a server panic).
  ``numCPUs`` and ``memoryMB`` change while the VM runs. A zero ``bootDelay`` reads back unset.
  Tasks finish before the call returns. Powering a VM off (or on) in that state already fails
  with InvalidPowerState.
- Host networking, services and lockdown mode as vcsim 0.24.2 ships them cannot carry this
  seed: ``networkSystem.networkInfo`` is a separate copy of ``host.config.network`` with vSwitch0
  but no uplinks, no pNICs and no VMkernel NICs; ``AddVirtualSwitch`` ignores its spec (no
  uplinks) and adds only to that copy; ``AddPortGroup`` accepts any VLAN ID (9999), adds only
  to that copy and refuses a name another host already uses (DuplicateName); there is no
  ``UpdatePortGroup`` or ``UpdateVirtualSwitch`` (MethodNotFound); no object answers at
  ``configManager.serviceSystem`` or ``configManager.hostAccessManager``
  (ManagedObjectNotFound), so ``host.config.service`` (TSM-SSH stopped, policy "off") and
  ``host.config.lockdownMode`` ("lockdownDisabled") can be read but not changed, and
  ``HostSystem.EnterLockdownMode`` does not exist. Accord's binary adds those
  (``simulator/vcsim/host.go`` says exactly what), so here ``networkInfo`` and
  ``config.network`` are the same data and both list the port groups with their VLAN IDs.
  ``HostSystem.EnterLockdownMode`` / ``ExitLockdownMode`` remain missing (MethodNotFound): use
  ``HostAccessManager.ChangeLockdownMode``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyVmomi import vim, vmodl

TASK_TIMEOUT = 60.0
GUEST_ID = "otherGuest64"
SSH_SERVICE = "TSM-SSH"
LOCKDOWN_MODES = ("lockdownDisabled", "lockdownNormal", "lockdownStrict")
IDE0_KEY = 200  # ESXi (and vcsim) create IDE controllers 200 and 201 with every VM.
SCSI_RESERVED_UNIT = 7  # the controller's own unit number
MAX_SCSI_UNITS = 16
CPU_SHARES_PER_VCPU = 1000  # what "Normal" means for a VM's CPU, memory and each disk
MEMORY_SHARES_PER_MB = 10
DISK_SHARES = 1000
SWITCH_PORTS = 128
MTU = 1500


class SeedError(RuntimeError):
    """The spec does not fit the inventory, or vcsim refused a change (the message says which)."""


@dataclass(frozen=True)
class VmSpec:
    """A Pexip VM as installation leaves it."""

    name: str
    host: str  # the ESXi host's name as vcsim lists it (DC0_H0, DC0_H1...)
    cpus: int = 4
    memory_mb: int = 8192
    disks_gb: tuple[int, ...] = (100,)  # SCSI (0:0), (0:1)... on one LSI Logic controller
    portgroup: str = "Pexip VMs"
    powered_on: bool = True
    cdrom: bool = True  # a CD-ROM drive (IDE 0:0)


@dataclass(frozen=True)
class PortGroupSpec:
    """A standard port group, created on every host."""

    name: str
    vlan: int
    vswitch: str  # e.g. "vSwitch1"; created with a free pNIC as uplink when missing


@dataclass(frozen=True)
class InventorySpec:
    """What to seed: the VMs, the port groups, and the hosts' lockdown mode and SSH service."""

    vms: tuple[VmSpec, ...]
    portgroups: tuple[PortGroupSpec, ...] = (PortGroupSpec("Pexip VMs", 100, "vSwitch1"),)
    lockdown_mode: str = "lockdownNormal"
    ssh_running: bool = False


@dataclass
class _Host:
    """A host and what creating VMs on it needs, read once."""

    obj: Any
    pool: Any = None
    datastore: str = ""
    networks: dict[str, Any] = field(default_factory=dict)


def default_spec(
    names_by_role: Mapping[str, Sequence[str]], hosts: Sequence[str] = ("DC0_H0",)
) -> InventorySpec:
    """VMs with `VmSpec`'s defaults, each role's spread over ``hosts`` in turn.

    ``names_by_role`` is, for example, ``{"primary": ["mgr01", "conf01"], "contingency": [...]}``;
    the roles only order the VMs.
    """
    if not hosts:
        raise ValueError("at least one host is needed")
    vms = tuple(
        VmSpec(name=name, host=hosts[i % len(hosts)])
        for names in names_by_role.values()
        for i, name in enumerate(names)
    )
    return InventorySpec(vms=vms)


def seed(service_instance: Any, spec: InventorySpec) -> None:
    """Create ``spec`` in the vCenter ``service_instance`` is logged in to (see the module)."""
    content = service_instance.RetrieveContent()
    datacenter = _datacenter(content)
    hosts = {h.name: _Host(h) for h in _objects(content, vim.HostSystem)}
    _check(spec, sorted(hosts))
    for host in hosts.values():
        _seed_host(host.obj, spec)
    networks = {n.name: n for n in datacenter.network}
    for host in hosts.values():
        host.pool = host.obj.parent.resourcePool
        host.datastore = host.obj.datastore[0].name
        host.networks = networks
    for vm in spec.vms:
        _create_vm(datacenter, hosts[vm.host], vm)


def _check(spec: InventorySpec, hosts: list[str]) -> None:
    """Refuse a spec that cannot be seeded, before any change."""
    problems = []
    names = [vm.name for vm in spec.vms]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"VM names used twice: {', '.join(duplicates)}")
    groups = {g.name for g in spec.portgroups}
    if len(groups) != len(spec.portgroups):
        problems.append("port group names used twice")
    for vm in spec.vms:
        if vm.host not in hosts:
            problems.append(f"VM {vm.name}: no host {vm.host!r} (hosts: {', '.join(hosts)})")
        if vm.portgroup not in groups:
            problems.append(f"VM {vm.name}: port group {vm.portgroup!r} is not in the spec")
        if len(vm.disks_gb) > MAX_SCSI_UNITS - 1:
            problems.append(f"VM {vm.name}: more disks than one SCSI controller takes")
    if spec.lockdown_mode not in LOCKDOWN_MODES:
        problems.append(f"lockdown mode {spec.lockdown_mode!r} is not one of {LOCKDOWN_MODES}")
    if problems:
        raise SeedError("; ".join(problems))


def _objects(content: Any, kind: type) -> list[Any]:
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return list(view.view)
    finally:
        view.DestroyView()


def _datacenter(content: Any) -> Any:
    datacenters = _objects(content, vim.Datacenter)
    if len(datacenters) != 1:
        raise SeedError(f"expected one datacenter, found {len(datacenters)}")
    return datacenters[0]


def wait(task: Any, what: str, timeout: float = TASK_TIMEOUT) -> Any:
    """The task's result; `SeedError` naming ``what`` if it fails or outlasts ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        info = task.info
        if info.state == vim.TaskInfo.State.success:
            return info.result
        if info.state == vim.TaskInfo.State.error:
            error = info.error
            reason = getattr(error, "msg", "") or type(error).__name__
            raise SeedError(f"{what}: {reason}")
        if time.monotonic() > deadline:
            raise SeedError(f"{what}: task still {info.state} after {timeout:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _call(what: str, method: Any, **kwargs: Any) -> Any:
    """A non-task SOAP call whose vSphere fault becomes a `SeedError` naming ``what``."""
    try:
        return method(**kwargs)
    except vmodl.MethodFault as exc:
        raise SeedError(f"{what}: {exc.msg or type(exc).__name__}") from None


def switch_spec(nic: str) -> Any:
    """A standard switch with ``nic`` as its only (active) uplink."""
    return vim.host.VirtualSwitch.Specification(
        numPorts=SWITCH_PORTS,
        mtu=MTU,
        bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=[nic]),
        policy=vim.host.NetworkPolicy(
            nicTeaming=vim.host.NetworkPolicy.NicTeamingPolicy(
                nicOrder=vim.host.NetworkPolicy.NicOrderPolicy(activeNic=[nic])
            )
        ),
    )


def portgroup_spec(group: PortGroupSpec) -> Any:
    """The API's spec of a standard port group (the switch's policy applies)."""
    return vim.host.PortGroup.Specification(
        name=group.name,
        vlanId=group.vlan,
        vswitchName=group.vswitch,
        policy=vim.host.NetworkPolicy(),
    )


def _seed_host(host: Any, spec: InventorySpec) -> None:
    """Switches and port groups, then the lockdown mode and the SSH service, on one host.

    A host with one physical NIC (``-single-nic-hosts``, the HOST-01 mutation's) has no second
    switch: the spec's port groups go on vSwitch0, beside the management network, as they must
    on such a host.
    """
    network = host.configManager.networkSystem
    info = network.networkInfo
    switches = {s.name for s in info.vswitch}
    used = {key for s in info.vswitch for key in s.pnic or []}
    free = [p.device for p in info.pnic if p.key not in used]
    single = len(info.pnic) < 2  # the HOST-01 mutation's host: everything on vSwitch0
    for name in dict.fromkeys(g.vswitch for g in spec.portgroups):
        if name in switches or single:
            continue
        if not free:
            raise SeedError(f"host {host.name}: no free physical NIC for {name}")
        nic = free.pop(0)
        _call(
            f"host {host.name}: adding {name} on {nic}",
            network.AddVirtualSwitch,
            vswitchName=name,
            spec=switch_spec(nic),
        )
    existing = {g.spec.name: g.spec for g in network.networkInfo.portgroup}
    for group in spec.portgroups:
        if single:
            group = PortGroupSpec(group.name, group.vlan, "vSwitch0")
        what = f"host {host.name}: port group {group.name}"
        current = existing.get(group.name)
        if current is None:
            _call(what, network.AddPortGroup, portgrp=portgroup_spec(group))
        elif (current.vlanId, current.vswitchName) != (group.vlan, group.vswitch):
            _call(what, network.UpdatePortGroup, pgName=group.name, portgrp=portgroup_spec(group))
    access = host.configManager.hostAccessManager
    if access is None:
        raise SeedError(f"host {host.name}: no HostAccessManager (not Accord's vcsim?)")
    _call(
        f"host {host.name}: lockdown mode {spec.lockdown_mode}",
        access.ChangeLockdownMode,
        mode=spec.lockdown_mode,
    )
    services = host.configManager.serviceSystem
    what = f"host {host.name}: SSH service"
    if spec.ssh_running:
        _call(what, services.StartService, id=SSH_SERVICE)
        _call(what, services.UpdateServicePolicy, id=SSH_SERVICE, policy="on")
    else:
        _call(what, services.StopService, id=SSH_SERVICE)
        _call(what, services.UpdateServicePolicy, id=SSH_SERVICE, policy="off")


def fresh_boot_options() -> Any:
    """The boot options of a VM nobody has changed: no boot order, no forced BIOS setup."""
    return vim.vm.BootOptions(
        bootDelay=0,
        enterBIOSSetup=False,
        efiSecureBootEnabled=False,
        bootRetryEnabled=False,
        bootRetryDelay=10000,
        networkBootProtocol="ipv4",
        bootOrder=[],
    )


def unlimited(shares: int) -> Any:
    """No reservation, no limit, Normal shares (``shares`` is what Normal means here)."""
    return vim.ResourceAllocationInfo(
        reservation=0,
        limit=-1,
        expandableReservation=False,
        shares=vim.SharesInfo(level=vim.SharesInfo.Level.normal, shares=shares),
    )


def _add(device: Any, label: str, create_file: bool = False) -> Any:
    """An "add" device change; ``label`` is the one vSphere gives the device (vcsim keeps it)."""
    device.deviceInfo = vim.Description(label=label, summary="")
    change = vim.vm.device.VirtualDeviceSpec(operation="add", device=device)
    if create_file:
        change.fileOperation = "create"
    return change


def _devices(vm: VmSpec, datastore: str, network: Any) -> list[Any]:
    """The device changes of a new VM: SCSI controller and disks, CD-ROM, NIC."""
    scsi_key, cdrom_key, nic_key = -100, -200, -300
    changes = [
        _add(
            vim.vm.device.VirtualLsiLogicController(
                key=scsi_key, busNumber=0, sharedBus="noSharing"
            ),
            "SCSI controller 0",
        )
    ]
    units = [u for u in range(MAX_SCSI_UNITS) if u != SCSI_RESERVED_UNIT]
    for i, size in enumerate(vm.disks_gb):
        disk = vim.vm.device.VirtualDisk(
            key=scsi_key - 1 - i,
            controllerKey=scsi_key,
            unitNumber=units[i],
            capacityInKB=size * 1024 * 1024,
            capacityInBytes=size * 1024**3,
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                fileName=f"[{datastore}]", diskMode="persistent", thinProvisioned=True
            ),
            storageIOAllocation=vim.StorageResourceManager.IOAllocationInfo(
                limit=-1,
                reservation=0,
                shares=vim.SharesInfo(level=vim.SharesInfo.Level.normal, shares=DISK_SHARES),
            ),
        )
        changes.append(_add(disk, f"Hard disk {i + 1}", create_file=True))
    if vm.cdrom:
        cdrom = vim.vm.device.VirtualCdrom(
            key=cdrom_key,
            controllerKey=IDE0_KEY,
            unitNumber=0,
            backing=vim.vm.device.VirtualCdrom.RemotePassthroughBackingInfo(
                deviceName="", exclusive=False
            ),
            connectable=vim.vm.device.VirtualDevice.ConnectInfo(
                startConnected=False, connected=False, allowGuestControl=True
            ),
        )
        changes.append(_add(cdrom, "CD/DVD drive 1"))
    nic = vim.vm.device.VirtualVmxnet3(
        key=nic_key,
        addressType="generated",
        backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(
            deviceName=vm.portgroup, network=network
        ),
        connectable=vim.vm.device.VirtualDevice.ConnectInfo(
            startConnected=True, connected=vm.powered_on, allowGuestControl=True
        ),
    )
    changes.append(_add(nic, "Network adapter 1"))
    return changes


def _create_vm(datacenter: Any, host: _Host, vm: VmSpec) -> Any:
    """Create one VM on its host (and power it on); its managed object."""
    network = host.networks.get(vm.portgroup)
    if network is None:
        raise SeedError(f"VM {vm.name}: no network {vm.portgroup!r} in the datacenter")
    config = vim.vm.ConfigSpec(
        name=vm.name,
        guestId=GUEST_ID,
        numCPUs=vm.cpus,
        numCoresPerSocket=1,
        memoryMB=vm.memory_mb,
        files=vim.vm.FileInfo(vmPathName=f"[{host.datastore}]"),
        firmware="bios",
        bootOptions=fresh_boot_options(),
        cpuAllocation=unlimited(vm.cpus * CPU_SHARES_PER_VCPU),
        memoryAllocation=unlimited(vm.memory_mb * MEMORY_SHARES_PER_MB),
        memoryReservationLockedToMax=False,
        deviceChange=_devices(vm, host.datastore, network),
    )
    what = f"VM {vm.name} on {vm.host}"
    created = wait(
        datacenter.vmFolder.CreateVM_Task(config=config, pool=host.pool, host=host.obj),
        f"creating {what}",
    )
    if vm.powered_on:
        wait(created.PowerOnVM_Task(), f"powering on {what}")
    return created
