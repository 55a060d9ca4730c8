"""What Accord's binary adds to vcsim 0.24.2 (simulator/vcsim/host.go), through the vSphere API:
standard switches and port groups that behave like ESXi's, the SSH service and lockdown mode;
and the vcsim behaviours the deployer and the mutation tests must live with."""

from __future__ import annotations

import pytest
from pyVmomi import vim, vmodl

from simulator.vcsim.seed import (
    InventorySpec,
    PortGroupSpec,
    SeedError,
    fresh_boot_options,
    portgroup_spec,
    seed,
    switch_spec,
    unlimited,
    wait,
)
from tests.vcsim.conftest import host, objects, vm


@pytest.fixture
def network(scratch):
    return host(scratch).configManager.networkSystem


def groups(network):
    return {g.spec.name: g for g in network.networkInfo.portgroup}


def switches(network):
    return {s.name: s for s in network.networkInfo.vswitch}


def test_a_port_group_vlan_can_be_changed(network):
    network.UpdatePortGroup(
        pgName="Pexip VMs", portgrp=portgroup_spec(PortGroupSpec("Pexip VMs", 4095, "vSwitch1"))
    )
    assert groups(network)["Pexip VMs"].spec.vlanId == 4095
    network.UpdatePortGroup(
        pgName="Pexip VMs", portgrp=portgroup_spec(PortGroupSpec("Pexip VMs", 100, "vSwitch1"))
    )
    assert groups(network)["Pexip VMs"].spec.vlanId == 100


def test_a_port_group_can_move_to_the_management_switch_and_back(network):
    for target in ("vSwitch0", "vSwitch1"):
        network.UpdatePortGroup(
            pgName="Pexip VMs", portgrp=portgroup_spec(PortGroupSpec("Pexip VMs", 100, target))
        )
        group = groups(network)["Pexip VMs"]
        assert group.spec.vswitchName == target
        assert group.vswitch == f"key-vim.host.VirtualSwitch-{target}"
        on = {name for name, s in switches(network).items() if group.key in s.portgroup}
        assert on == {target}


def pg(name, vlan, vswitch):
    return portgroup_spec(PortGroupSpec(name, vlan, vswitch))


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        (lambda n: n.AddPortGroup(portgrp=pg("X", 4096, "vSwitch1")), vmodl.fault.InvalidArgument),
        (lambda n: n.AddPortGroup(portgrp=pg("X", 1, "vSwitch9")), vim.fault.NotFound),
        (lambda n: n.AddPortGroup(portgrp=pg("Pexip VMs", 1, "vSwitch1")), vim.fault.AlreadyExists),
        (
            lambda n: n.UpdatePortGroup(pgName="Pexip VMs", portgrp=pg("Y", 1, "vSwitch1")),
            vmodl.fault.NotSupported,
        ),
        (
            lambda n: n.UpdatePortGroup(pgName="Nope", portgrp=pg("Nope", 1, "vSwitch1")),
            vim.fault.NotFound,
        ),
        (
            lambda n: n.AddVirtualSwitch(vswitchName="vSwitch2", spec=switch_spec("vmnic1")),
            vim.fault.ResourceInUse,
        ),
        (
            lambda n: n.AddVirtualSwitch(vswitchName="vSwitch2", spec=switch_spec("vmnic7")),
            vim.fault.NotFound,
        ),
        (
            lambda n: n.AddVirtualSwitch(vswitchName="vSwitch1", spec=switch_spec("vmnic1")),
            vim.fault.AlreadyExists,
        ),
        (lambda n: n.RemovePortGroup(pgName="Management Network"), vim.fault.ResourceInUse),
    ],
)
def test_network_changes_esxi_refuses_are_refused(network, change, fault):
    with pytest.raises(fault):
        change(network)


def test_uplinks_can_change_but_never_be_shared(network):
    network.UpdateVirtualSwitch(
        vswitchName="vSwitch1", spec=vim.host.VirtualSwitch.Specification(numPorts=128)
    )
    assert not switches(network)["vSwitch1"].pnic
    with pytest.raises(vim.fault.ResourceInUse):
        network.UpdateVirtualSwitch(vswitchName="vSwitch1", spec=switch_spec("vmnic0"))
    network.UpdateVirtualSwitch(vswitchName="vSwitch1", spec=switch_spec("vmnic1"))
    assert list(switches(network)["vSwitch1"].spec.bridge.nicDevice) == ["vmnic1"]
    assert list(switches(network)["vSwitch1"].pnic) == ["key-vim.host.PhysicalNic-vmnic1"]


def test_a_port_group_no_host_uses_is_removed_with_its_network(scratch, network):
    network.AddPortGroup(portgrp=portgroup_spec(PortGroupSpec("Temporary", 5, "vSwitch1")))
    datacenter = objects(scratch, vim.Datacenter)["DC0"]
    assert "Temporary" in [n.name for n in datacenter.network]
    network.RemovePortGroup(pgName="Temporary")
    assert "Temporary" not in groups(network)
    assert "Temporary" not in [n.name for n in datacenter.network]
    assert all("Temporary" not in s.portgroup for s in switches(network).values())


@pytest.mark.parametrize("mode", ["lockdownDisabled", "lockdownStrict", "lockdownNormal"])
def test_lockdown_mode_changes_through_the_host_access_manager(scratch, mode):
    found = host(scratch)
    found.configManager.hostAccessManager.ChangeLockdownMode(mode=mode)
    assert found.config.lockdownMode == mode
    assert found.configManager.hostAccessManager.lockdownMode == mode


def test_lockdown_mode_refuses_an_unknown_mode_and_the_old_api_is_missing(scratch):
    found = host(scratch)
    with pytest.raises(vmodl.fault.InvalidArgument):
        found.configManager.hostAccessManager.ChangeLockdownMode(mode="lockdownSometimes")
    with pytest.raises(vmodl.fault.MethodNotFound):
        found.EnterLockdownMode()


def ssh(found):
    return {s.key: (s.running, s.policy) for s in found.config.service.service}["TSM-SSH"]


def test_the_ssh_service_starts_stops_and_keeps_its_policy(scratch):
    found = host(scratch)
    services = found.configManager.serviceSystem
    services.StartService(id="TSM-SSH")
    services.UpdateServicePolicy(id="TSM-SSH", policy="on")
    assert ssh(found) == (True, "on")
    listed = {s.key: s for s in services.serviceInfo.service}["TSM-SSH"]
    assert (listed.running, listed.policy) == (True, "on")
    services.StopService(id="TSM-SSH")
    services.UpdateServicePolicy(id="TSM-SSH", policy="off")
    assert ssh(found) == (False, "off")
    with pytest.raises(vim.fault.NotFound):
        services.StartService(id="no-such-service")
    with pytest.raises(vmodl.fault.InvalidArgument):
        services.UpdateServicePolicy(id="TSM-SSH", policy="sometimes")


# vcsim 0.24.2's ReconfigVM_Task, as the seed module's docstring describes it.


def reconfigure(machine, **spec):
    wait(machine.ReconfigVM_Task(spec=vim.vm.ConfigSpec(**spec)), "reconfigure")


def restore(machine):
    reconfigure(
        machine,
        cpuAllocation=unlimited(4000),
        memoryAllocation=unlimited(81920),
        bootOptions=fresh_boot_options(),
        firmware="bios",
        memoryReservationLockedToMax=False,
    )


def test_allocations_and_boot_options_are_replaced_not_merged(scratch):
    machine = vm(scratch, "scratch01")
    reconfigure(machine, cpuAllocation=vim.ResourceAllocationInfo(reservation=9176))
    cpu = machine.config.cpuAllocation
    assert (cpu.reservation, cpu.limit, cpu.shares) == (9176, None, None)
    reconfigure(machine, bootOptions=vim.vm.BootOptions(enterBIOSSetup=True))
    boot = machine.config.bootOptions
    assert boot.enterBIOSSetup is True and boot.efiSecureBootEnabled is None
    restore(machine)
    assert machine.config.cpuAllocation.limit == -1


def test_invalid_values_are_saved_although_the_task_fails(scratch):
    machine = vm(scratch, "scratch01")
    with pytest.raises(SeedError, match="InvalidArgument"):
        reconfigure(
            machine,
            firmware="efi",
            memoryReservationLockedToMax=True,
            cpuAllocation=vim.ResourceAllocationInfo(reservation=-5, limit=-1),
        )
    config = machine.config
    assert (config.cpuAllocation.reservation, config.firmware) == (-5, "efi")
    assert config.memoryReservationLockedToMax is True
    restore(machine)


def test_a_disk_edited_without_its_io_allocation_loses_it(scratch):
    machine = vm(scratch, "scratch01")
    disk = next(
        d for d in machine.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk)
    )
    disk.storageIOAllocation = vim.StorageResourceManager.IOAllocationInfo(
        limit=1000, shares=vim.SharesInfo(level="normal", shares=1000)
    )
    edit = vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk)
    reconfigure(machine, deviceChange=[edit])
    edited = {d.key: d for d in machine.config.hardware.device}[disk.key]
    assert edited.storageIOAllocation.limit == 1000
    disk.storageIOAllocation = None
    reconfigure(machine, deviceChange=[edit])
    edited = {d.key: d for d in machine.config.hardware.device}[disk.key]
    assert edited.storageIOAllocation is None


def test_power_off_and_on(scratch):
    machine = vm(scratch, "scratch01")
    wait(machine.PowerOffVM_Task(), "power off")
    assert machine.runtime.powerState == "poweredOff"
    with pytest.raises(SeedError, match="InvalidPowerState"):
        wait(machine.PowerOffVM_Task(), "power off")
    wait(machine.PowerOnVM_Task(), "power on")
    assert machine.runtime.powerState == "poweredOn"


def test_seed_can_leave_hosts_non_compliant_and_make_them_compliant_again(scratch):
    found = host(scratch)
    seed(scratch, InventorySpec(vms=(), lockdown_mode="lockdownDisabled", ssh_running=True))
    assert (found.config.lockdownMode, ssh(found)) == ("lockdownDisabled", (True, "on"))
    seed(scratch, InventorySpec(vms=()))
    assert (found.config.lockdownMode, ssh(found)) == ("lockdownNormal", (False, "off"))
