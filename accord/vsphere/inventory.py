"""The VMware layer as the guide talks about it, read through pyvmomi's property collector.

`Inventory.read(si)` makes a fixed number of SOAP calls however many VMs and hosts there are:
one container view and one property-collector retrieval per object type (VMs, hosts, the hosts'
network systems), each asking only for the properties the guide's checks need. Port groups are
read from ``configManager.networkSystem.networkInfo``, which is where vCenter (and vcsim) lists
every standard port group with its VLAN ID.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyVmomi import vim, vmodl

VM_PROPERTIES = (
    "name",
    "config.hardware.numCPU",
    "config.hardware.memoryMB",
    "config.hardware.device",
    "config.cpuAllocation",
    "config.memoryAllocation",
    "config.memoryReservationLockedToMax",
    "config.bootOptions",
    "config.firmware",
    "runtime.powerState",
    "runtime.host",
)
HOST_PROPERTIES = (
    "name",
    "summary.hardware.cpuMhz",
    "config.network.pnic",
    "config.network.vswitch",
    "config.network.vnic",
    "config.lockdownMode",
    "config.service",
    "configManager.networkSystem",
)


@dataclass(frozen=True)
class Allocation:
    """CPU (MHz) or memory (MB) reservation, limit (-1: unlimited) and shares level."""

    reservation: int
    limit: int
    shares: str

    def __str__(self) -> str:
        limit = "unlimited" if self.limit < 0 else str(self.limit)
        return f"reservation {self.reservation}, limit {limit}, shares {self.shares}"

    @classmethod
    def of(cls, info: Any) -> Allocation:
        if info is None:
            return cls(0, -1, "normal")
        level = info.shares.level if info.shares is not None else "normal"
        limit = info.limit if info.limit is not None else -1
        return cls(int(info.reservation or 0), int(limit), str(level))


@dataclass(frozen=True)
class Disk:
    """A virtual disk: its place ("SCSI (0:0)"), device key, shares level and IOPS limit."""

    label: str
    place: str
    key: int
    shares: str
    iops_limit: int  # -1: unlimited


@dataclass(frozen=True)
class Vm:
    """One virtual machine's settings the guide names."""

    name: str
    host: str
    cpus: int
    memory_mb: int
    cpu: Allocation
    memory: Allocation
    locked_to_max: bool
    disks: tuple[Disk, ...]
    boot_order: tuple[str, ...]
    enter_bios_setup: bool
    firmware: str
    power_state: str
    portgroups: tuple[str, ...]
    raw: Any = field(default=None, repr=False, compare=False)
    devices: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    boot_options: Any = field(default=None, repr=False, compare=False)

    @property
    def powered_on(self) -> bool:
        return self.power_state == "poweredOn"


@dataclass(frozen=True)
class PortGroup:
    name: str
    vlan: int
    vswitch: str


@dataclass(frozen=True)
class Host:
    """One ESXi host: CPU speed, physical NICs, vSwitch uplinks, port groups, VMkernel ports,
    lockdown mode and the SSH service."""

    name: str
    cpu_mhz: int
    pnics: tuple[str, ...]
    uplinks: dict[str, tuple[str, ...]]  # vSwitch -> pNICs
    portgroups: dict[str, PortGroup]
    vmkernel: dict[str, str]  # vmk device -> port group
    lockdown_mode: str
    ssh_running: bool | None
    raw: Any = field(default=None, repr=False, compare=False)

    def uplinks_of(self, portgroup: str) -> tuple[str, ...]:
        """The physical NICs that carry a port group (those of its vSwitch)."""
        group = self.portgroups.get(portgroup)
        return self.uplinks.get(group.vswitch, ()) if group else ()

    @property
    def management_portgroups(self) -> tuple[str, ...]:
        """Port groups of the VMkernel ports (vmk0 is the management network)."""
        return tuple(dict.fromkeys(self.vmkernel.values()))


def _retrieve(
    si: Any, types: Sequence[type], paths: Sequence[str]
) -> list[tuple[Any, dict[str, Any]]]:
    """(object, {path: value}) of every object of ``types`` below the root folder, in one
    property-collector call over a container view."""
    content = si.content
    view = content.viewManager.CreateContainerView(content.rootFolder, list(types), True)
    try:
        traverse = vmodl.query.PropertyCollector.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView
        )
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[
                vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])
            ],
            propSet=[
                vmodl.query.PropertyCollector.PropertySpec(type=t, pathSet=list(paths))
                for t in types
            ],
        )
        found = content.propertyCollector.RetrieveContents([spec])
    finally:
        view.Destroy()
    return [(item.obj, {p.name: p.val for p in item.propSet}) for item in found]


def _retrieve_objects(si: Any, objects: Iterable[Any], kind: type, paths: Sequence[str]) -> dict:
    """``{moid: {path: value}}`` for the given objects, in one call."""
    objects = list(objects)
    if not objects:
        return {}
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=o) for o in objects],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=list(paths))],
    )
    found = si.content.propertyCollector.RetrieveContents([spec])
    return {item.obj._moId: {p.name: p.val for p in item.propSet} for item in found}


def _place(device: Any, controllers: dict[int, Any]) -> str:
    controller = controllers.get(device.controllerKey)
    if isinstance(controller, vim.vm.device.VirtualSCSIController):
        return f"SCSI ({controller.busNumber}:{device.unitNumber})"
    if isinstance(controller, vim.vm.device.VirtualIDEController):
        return f"IDE ({controller.busNumber}:{device.unitNumber})"
    if isinstance(controller, vim.vm.device.VirtualSATAController):
        return f"SATA ({controller.busNumber}:{device.unitNumber})"
    return f"{type(controller).__name__} ({device.unitNumber})"


def _disks(devices: Sequence[Any]) -> tuple[Disk, ...]:
    controllers = {d.key: d for d in devices if isinstance(d, vim.vm.device.VirtualController)}
    disks = []
    for device in devices:
        if not isinstance(device, vim.vm.device.VirtualDisk):
            continue
        io = device.storageIOAllocation
        limit = io.limit if io is not None and io.limit is not None else -1
        level = io.shares.level if io is not None and io.shares is not None else "normal"
        disks.append(
            Disk(device.deviceInfo.label, _place(device, controllers), device.key, level, limit)
        )
    return tuple(disks)


def _boot_order(options: Any, devices: Sequence[Any]) -> tuple[str, ...]:
    """The boot order as the VM's BIOS shows it: "disk SCSI (0:0)", "cdrom", "network"..."""
    if options is None or not options.bootOrder:
        return ()
    controllers = {d.key: d for d in devices if isinstance(d, vim.vm.device.VirtualController)}
    by_key = {d.key: d for d in devices}
    order = []
    for item in options.bootOrder:
        if isinstance(item, vim.vm.BootOptions.BootableDiskDevice):
            disk = by_key.get(item.deviceKey)
            order.append(f"disk {_place(disk, controllers)}" if disk else "disk (missing)")
        elif isinstance(item, vim.vm.BootOptions.BootableCdromDevice):
            order.append("cdrom")
        elif isinstance(item, vim.vm.BootOptions.BootableEthernetDevice):
            order.append("network")
        elif isinstance(item, vim.vm.BootOptions.BootableFloppyDevice):
            order.append("floppy")
        else:
            order.append(type(item).__name__)
    return tuple(order)


def _portgroups(devices: Sequence[Any]) -> tuple[str, ...]:
    names = []
    for device in devices:
        if isinstance(device, vim.vm.device.VirtualEthernetCard):
            backing = device.backing
            names.append(getattr(backing, "deviceName", None) or type(backing).__name__)
    return tuple(names)


@dataclass
class Inventory:
    """Every VM and host of a vCenter, as the guide's checks need them. ``twice``: names that
    more than one VM or host has (vCenter allows it across folders); the checks refuse to judge
    them, since they cannot tell which is the Pexip VM."""

    vms: dict[str, Vm]
    hosts: dict[str, Host]
    twice: tuple[str, ...] = ()

    @classmethod
    def read(cls, si: Any) -> Inventory:
        host_rows = _retrieve(si, [vim.HostSystem], HOST_PROPERTIES)
        network_systems = [p["configManager.networkSystem"] for _, p in host_rows]
        networks = _retrieve_objects(
            si, [n for n in network_systems if n is not None], vim.host.NetworkSystem,
            ["networkInfo.portgroup"],
        )  # fmt: skip
        hosts = {}
        host_names = {}
        twice = []
        for obj, props in host_rows:
            host = _host(obj, props, networks)
            if host.name in hosts:
                twice.append(host.name)
            hosts[host.name] = host
            host_names[obj._moId] = host.name
        vms = {}
        for obj, props in _retrieve(si, [vim.VirtualMachine], VM_PROPERTIES):
            vm = _vm(obj, props, host_names)
            if vm.name in vms:
                twice.append(vm.name)
            vms[vm.name] = vm
        return cls(vms, hosts, tuple(sorted(set(twice))))

    def host_of(self, vm: Vm) -> Host:
        return self.hosts[vm.host]

    def iops_limits(self, planned: Mapping[str, int] | None = None) -> dict[str, list[int]]:
        """Every disk's IOPS limit (-1: unlimited) by host; a VM named in ``planned`` counts as
        if each of its disks had that limit (the deployer's plan)."""
        limits: dict[str, list[int]] = {}
        for vm in self.vms.values():
            planned_limit = (planned or {}).get(vm.name)
            disks = [planned_limit if planned_limit is not None else d.iops_limit for d in vm.disks]
            limits.setdefault(vm.host, []).extend(disks)
        return limits


def _host(obj: Any, props: dict[str, Any], networks: dict[str, dict[str, Any]]) -> Host:
    netsys = props.get("configManager.networkSystem")
    groups = networks.get(netsys._moId, {}).get("networkInfo.portgroup", []) if netsys else []
    services = props.get("config.service")
    ssh = None
    if services is not None:
        ssh = next((s.running for s in services.service or [] if s.key == "TSM-SSH"), None)
    return Host(
        name=props["name"],
        cpu_mhz=int(props.get("summary.hardware.cpuMhz") or 0),
        pnics=tuple(p.device for p in props.get("config.network.pnic") or []),
        uplinks={
            v.name: tuple(getattr(v.spec.bridge, "nicDevice", None) or [])
            for v in props.get("config.network.vswitch") or []
        },
        portgroups={
            g.spec.name: PortGroup(g.spec.name, int(g.spec.vlanId or 0), g.spec.vswitchName)
            for g in groups
        },
        vmkernel={v.device: v.portgroup for v in props.get("config.network.vnic") or []},
        lockdown_mode=str(props.get("config.lockdownMode") or "lockdownDisabled"),
        ssh_running=ssh,
        raw=obj,
    )


def _vm(obj: Any, props: dict[str, Any], host_names: dict[str, str]) -> Vm:
    devices = props.get("config.hardware.device") or []
    options = props.get("config.bootOptions")
    host = props.get("runtime.host")
    return Vm(
        name=props["name"],
        host=host_names.get(host._moId, "") if host is not None else "",
        cpus=int(props.get("config.hardware.numCPU") or 0),
        memory_mb=int(props.get("config.hardware.memoryMB") or 0),
        cpu=Allocation.of(props.get("config.cpuAllocation")),
        memory=Allocation.of(props.get("config.memoryAllocation")),
        locked_to_max=bool(props.get("config.memoryReservationLockedToMax")),
        disks=_disks(devices),
        boot_order=_boot_order(options, devices),
        enter_bios_setup=bool(options.enterBIOSSetup) if options is not None else False,
        firmware=str(props.get("config.firmware") or "bios"),
        power_state=str(props.get("runtime.powerState")),
        portgroups=_portgroups(devices),
        raw=obj,
        devices=tuple(devices),
        boot_options=options,
    )
