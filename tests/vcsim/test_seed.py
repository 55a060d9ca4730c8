"""The seeded inventory, read back through pyvmomi as Accord's checks read vCenter: hosts and
their networking, port groups with VLAN IDs, lockdown mode and SSH, and each VM as a fresh,
non-compliant deployment leaves it."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from simulator.vcsim.seed import (
    InventorySpec,
    PortGroupSpec,
    SeedError,
    VmSpec,
    default_spec,
    seed,
)
from tests.vcsim.conftest import SPEC, host, objects, vm

HOSTS = ["DC0_H0", "DC0_H1"]


def devices(machine, kind):
    return [d for d in machine.config.hardware.device if isinstance(d, kind)]


def test_one_datacenter_with_the_hosts_and_only_the_seeded_vms(seeded):
    assert list(objects(seeded, vim.Datacenter)) == ["DC0"]
    assert sorted(objects(seeded, vim.HostSystem)) == HOSTS
    assert not objects(seeded, vim.ClusterComputeResource)
    assert sorted(objects(seeded, vim.VirtualMachine)) == sorted(v.name for v in SPEC.vms)
    for spec in SPEC.vms:
        assert vm(seeded, spec.name).runtime.host.name == spec.host


@pytest.mark.parametrize("name", HOSTS)
def test_each_host_has_two_pnics_and_a_vswitch_per_pnic(seeded, name):
    network = host(seeded, name).config.network
    assert [p.device for p in network.pnic] == ["vmnic0", "vmnic1"]
    keys = {p.key: p.device for p in network.pnic}
    switches = {s.name: s for s in network.vswitch}
    assert sorted(switches) == ["vSwitch0", "vSwitch1"]
    for switch, nic in (("vSwitch0", "vmnic0"), ("vSwitch1", "vmnic1")):
        assert list(switches[switch].spec.bridge.nicDevice) == [nic]
        assert [keys[k] for k in switches[switch].pnic] == [nic]
    assert switches["vSwitch1"].mtu == 1500


@pytest.mark.parametrize("name", HOSTS)
def test_the_management_vmkernel_port_stays_on_vswitch0(seeded, name):
    network = host(seeded, name).config.network
    assert {v.device: v.portgroup for v in network.vnic} == {"vmk0": "Management Network"}
    groups = {g.spec.name: g for g in network.portgroup}
    assert groups["Management Network"].spec.vswitchName == "vSwitch0"
    vswitch0 = next(s for s in network.vswitch if s.name == "vSwitch0")
    assert groups["Management Network"].key in vswitch0.portgroup


@pytest.mark.parametrize("name", HOSTS)
def test_port_groups_with_their_vlans_read_through_the_network_system(seeded, name):
    system = host(seeded, name).configManager.networkSystem
    groups = {g.spec.name: g for g in system.networkInfo.portgroup}
    for group in SPEC.portgroups:
        found = groups[group.name]
        assert (found.spec.vlanId, found.spec.vswitchName) == (group.vlan, group.vswitch)
        assert found.vswitch == "key-vim.host.VirtualSwitch-vSwitch1"
    vswitch1 = next(s for s in system.networkInfo.vswitch if s.name == "vSwitch1")
    assert sorted(vswitch1.portgroup) == sorted(groups[g.name].key for g in SPEC.portgroups)
    # vcsim 0.24.2 kept these apart; Accord's binary makes them one, as ESXi does
    config = {g.spec.name: g.spec.vlanId for g in host(seeded, name).config.network.portgroup}
    assert config == {g.spec.name: g.spec.vlanId for g in system.networkInfo.portgroup}


def test_each_port_group_is_one_network_of_both_hosts(seeded):
    datacenter = objects(seeded, vim.Datacenter)["DC0"]
    networks = {n.name: n for n in datacenter.network}
    for group in SPEC.portgroups:
        assert sorted(h.name for h in networks[group.name].host) == HOSTS


@pytest.mark.parametrize("name", HOSTS)
def test_hosts_are_in_lockdown_mode_with_ssh_stopped(seeded, name):
    found = host(seeded, name)
    assert found.config.lockdownMode == "lockdownNormal"
    assert found.configManager.hostAccessManager.lockdownMode == "lockdownNormal"
    ssh = {s.key: s for s in found.config.service.service}["TSM-SSH"]
    assert (ssh.running, ssh.policy) == (False, "off")
    listed = found.configManager.serviceSystem.serviceInfo.service
    assert {s.key: (s.running, s.policy) for s in listed}["TSM-SSH"] == (False, "off")


@pytest.mark.parametrize("spec", SPEC.vms, ids=lambda s: s.name)
def test_vms_have_no_reservations_or_limits_and_normal_shares(seeded, spec):
    config = vm(seeded, spec.name).config
    assert (config.hardware.numCPU, config.hardware.memoryMB) == (spec.cpus, spec.memory_mb)
    for allocation, shares in (
        (config.cpuAllocation, spec.cpus * 1000),
        (config.memoryAllocation, spec.memory_mb * 10),
    ):
        assert (allocation.reservation, allocation.limit) == (0, -1)
        assert (allocation.shares.level, allocation.shares.shares) == ("normal", shares)
    assert config.memoryReservationLockedToMax is False


@pytest.mark.parametrize("spec", SPEC.vms, ids=lambda s: s.name)
def test_disks_are_on_one_lsi_logic_controller_with_unlimited_iops(seeded, spec):
    machine = vm(seeded, spec.name)
    controllers = devices(machine, vim.vm.device.VirtualSCSIController)
    assert len(controllers) == 1
    assert isinstance(controllers[0], vim.vm.device.VirtualLsiLogicController)
    assert controllers[0].busNumber == 0
    disks = sorted(devices(machine, vim.vm.device.VirtualDisk), key=lambda d: d.unitNumber)
    assert [d.controllerKey for d in disks] == [controllers[0].key] * len(spec.disks_gb)
    assert [d.unitNumber for d in disks] == list(range(len(spec.disks_gb)))
    assert [d.capacityInKB // 1024**2 for d in disks] == list(spec.disks_gb)
    assert [d.deviceInfo.label for d in disks] == [
        f"Hard disk {i + 1}" for i in range(len(spec.disks_gb))
    ]
    for disk in disks:
        io = disk.storageIOAllocation
        assert (io.limit, io.shares.level, io.shares.shares) == (-1, "normal", 1000)


@pytest.mark.parametrize("spec", SPEC.vms, ids=lambda s: s.name)
def test_default_boot_options_and_bios_firmware(seeded, spec):
    config = vm(seeded, spec.name).config
    assert config.firmware == "bios"
    assert list(config.bootOptions.bootOrder) == []
    assert config.bootOptions.enterBIOSSetup is False
    assert config.bootOptions.efiSecureBootEnabled is False


@pytest.mark.parametrize("spec", SPEC.vms, ids=lambda s: s.name)
def test_power_state_nic_and_cdrom_as_specified(seeded, spec):
    machine = vm(seeded, spec.name)
    expected = "poweredOn" if spec.powered_on else "poweredOff"
    assert machine.runtime.powerState == expected
    nics = devices(machine, vim.vm.device.VirtualEthernetCard)
    assert len(nics) == 1
    nic = nics[0]
    assert isinstance(nic, vim.vm.device.VirtualVmxnet3)
    assert nic.backing.deviceName == spec.portgroup
    assert nic.backing.network.name == spec.portgroup
    assert nic.connectable.startConnected is True
    assert nic.connectable.connected is spec.powered_on
    assert [n.name for n in machine.network] == [spec.portgroup]
    cdroms = devices(machine, vim.vm.device.VirtualCdrom)
    assert len(cdroms) == int(spec.cdrom)
    if spec.cdrom:
        ide = {d.key: d for d in devices(machine, vim.vm.device.VirtualIDEController)}
        assert (ide[cdroms[0].controllerKey].busNumber, cdroms[0].unitNumber) == (0, 0)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (InventorySpec(vms=(VmSpec("x", "DC0_H9"),)), "no host 'DC0_H9'"),
        (InventorySpec(vms=(VmSpec("x", "DC0_H0", portgroup="Other"),)), "port group 'Other'"),
        (
            InventorySpec(vms=(VmSpec("x", "DC0_H0"), VmSpec("x", "DC0_H1"))),
            "VM names used twice: x",
        ),
        (InventorySpec(vms=(), lockdown_mode="on"), "lockdown mode 'on'"),
    ],
)
def test_a_spec_that_does_not_fit_is_refused_before_any_change(seeded, spec, problem):
    with pytest.raises(SeedError, match=problem):
        seed(seeded, spec)
    assert "x" not in objects(seeded, vim.VirtualMachine)


def test_a_vswitch_needs_a_free_pnic(seeded):
    spec = InventorySpec(vms=(), portgroups=(PortGroupSpec("More", 300, "vSwitch2"),))
    with pytest.raises(SeedError, match="DC0_H0: no free physical NIC for vSwitch2"):
        seed(seeded, spec)


def test_default_spec_spreads_each_role_over_the_hosts():
    spec = default_spec({"primary": ["mgr", "conf1", "conf2"], "contingency": ["dr"]}, HOSTS)
    placed = [(v.name, v.host) for v in spec.vms]
    assert placed == [
        ("mgr", "DC0_H0"),
        ("conf1", "DC0_H1"),
        ("conf2", "DC0_H0"),
        ("dr", "DC0_H0"),
    ]
    assert spec.portgroups == (PortGroupSpec("Pexip VMs", 100, "vSwitch1"),)
    assert all(v == VmSpec(v.name, v.host) for v in spec.vms)
