Feature: The VMware host and the Pexip VMs
  The Secure Mode guide's "Securing the host environment", "Reserving VM resources", the VMs'
  BIOS settings and the VLANs of the Pexip VMs, read from vCenter.

  Background:
    Given the Pexip VMs and their ESXi hosts as vCenter shows them

  @HOST-01
  Scenario: Each ESXi host that runs a Pexip VM has at least two physical NICs
    Then each host that runs a Pexip VM has at least two physical NICs

  @HOST-02
  Scenario: The management network uses physical NICs that carry none of the Pexip VMs' port groups
    Then no physical NIC of a host's management network carries a Pexip VM's port group

  @HOST-03
  Scenario: The ESXi hosts pass the spot checks the API shows: lockdown mode, SSH stopped
    Then each host that runs a Pexip VM is in lockdown mode
    And the SSH service is stopped on each of those hosts

  @HOST-03
  Scenario: The ESXi hosts are hardened to the VMware ESXi STIG
    Then the site file attests it

  @VM-CPU-01
  Scenario: Each Pexip VM's CPU reservation is its maximum
    Then each Pexip VM's CPU reservation is its vCPUs times the host's core MHz

  @VM-CPU-02
  Scenario: CPU limit equals CPU reservation
    Then each Pexip VM's CPU limit equals its CPU reservation

  @VM-CPU-03
  Scenario: CPU shares are Normal
    Then each Pexip VM's CPU shares are "Normal"

  @VM-MEM-01
  Scenario: All guest memory is reserved and locked
    Then "Reserve all guest memory (All locked)" is set on each Pexip VM

  @VM-MEM-02
  Scenario: Memory limit equals memory reservation
    Then each Pexip VM's memory limit equals its memory reservation

  @VM-MEM-03
  Scenario: Memory shares are Normal
    Then each Pexip VM's memory shares are "Normal"

  @VM-DISK-01
  Scenario: Every virtual disk's shares are Normal
    Then every virtual disk of each Pexip VM has "Normal" shares

  @VM-DISK-02
  Scenario: Every virtual disk has an IOPS limit
    Then every virtual disk of each Pexip VM has an IOPS limit

  @VM-DISK-03
  Scenario: The IOPS limits on a host do not exceed the datastore's capacity
    Then on each host the IOPS limits of all VMs add up to no more than the datastore's capacity

  @BIOS-01
  Scenario: The VM boots from its hard drive first, and the first hard drive is SCSI (0:0)
    Then each Pexip VM boots from its hard drive first, and that is SCSI (0:0)

  @BIOS-02
  Scenario: The VM firmware is BIOS and "Force BIOS setup" is not left on
    Then each Pexip VM's firmware is BIOS and "Force BIOS setup" is not left on

  @BIOS-02
  Scenario: "Force BIOS setup" was used once to reach the BIOS
    Then the site file attests it

  @BIOS-03
  Scenario: A BIOS supervisor password is set
    Then the site file attests it

  @VLAN-01
  Scenario: No Pexip VM's port group uses VLAN ID 4095
    Then no Pexip VM's port group uses VLAN ID 4095

  @VLAN-02
  Scenario: The Pexip VMs' VLAN IDs do not conflict with the site's reserved VLAN IDs
    Then no Pexip VM's port group uses a VLAN ID the site reserves

  @CONT-05
  Scenario: All VMs of the contingency deployment are powered off
    Then every VM of the contingency deployment is powered off
