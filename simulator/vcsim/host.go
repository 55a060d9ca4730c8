// What vcsim 0.24.2 lacks for the guide's ESXi host checks, added per host after the model
// is created. Each addition follows the vSphere API's method and property names, so pyvmomi
// reaches it exactly as it reaches a real host; nothing else of vcsim changes.
//
// Networking (HostNetworkSystem). In vcsim 0.24.2, configManager.networkSystem.networkInfo is
// a separate, nearly empty copy of host.config.network (vSwitch0 without uplinks, no pNICs,
// no VMkernel NICs); AddVirtualSwitch ignores its spec (no uplinks, MTU or ports);
// AddPortGroup records port group names where the API has keys, and refuses a port group name
// another host already uses (DuplicateName), where vCenter shares one Network between hosts;
// UpdateVirtualSwitch and UpdatePortGroup do not exist. Here networkInfo IS host.config.network
// (one structure, as on ESXi: vmnic0 and vmnic1, vSwitch0 bridged to vmnic0 with "VM Network"
// and "Management Network", vmk0 on "Management Network"), and:
//   - AddVirtualSwitch / UpdateVirtualSwitch apply the spec: uplinks from a bond (or simple)
//     bridge's NIC devices (NotFound for an unknown pNIC, ResourceInUse for one another switch
//     uses), ports and MTU (1500 when not given);
//   - AddPortGroup checks the VLAN ID (0-4095), records the key on the switch, the switch's
//     policy as the computed policy, and connects the host to the datacenter's Network of that
//     name, creating it for the first host;
//   - UpdatePortGroup changes a port group's VLAN ID, policy or switch (a new name: NotSupported);
//   - RemovePortGroup refuses while a VMkernel NIC uses the port group (ResourceInUse), and
//     removes the Network when no host uses it any more.
//
// Services (HostServiceSystem). vcsim 0.24.2 lists host.config.service (TSM-SSH stopped, policy
// "off") but has no object behind configManager.serviceSystem. Here each host has one whose
// serviceInfo is host.config.service: StartService, StopService, RestartService,
// UpdateServicePolicy ("on", "off", "automatic") and RefreshServices; NotFound for an unknown
// service.
//
// Lockdown mode (HostAccessManager). vcsim 0.24.2 reports host.config.lockdownMode
// "lockdownDisabled" and has no object behind configManager.hostAccessManager, nor
// HostSystem.EnterLockdownMode / ExitLockdownMode. Here each host has a HostAccessManager
// whose lockdownMode is host.config.lockdownMode: ChangeLockdownMode(lockdownDisabled |
// lockdownNormal | lockdownStrict). HostSystem.EnterLockdownMode / ExitLockdownMode (deprecated
// since vSphere 6.0) remain missing: vcsim's own code needs its HostSystem type unchanged.
package main

import (
	"sort"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	vswitchKeyPrefix   = "key-vim.host.VirtualSwitch-"
	portgroupKeyPrefix = "key-vim.host.PortGroup-"
	defaultMTU         = 1500
	maxVlanID          = 4095
)

// extendHosts gives every host of the model the additions described above.
func extendHosts() {
	dc := simulator.Map.Any("Datacenter").(*simulator.Datacenter)
	for _, entity := range simulator.Map.All("HostSystem") {
		host := entity.(*simulator.HostSystem)
		ref := *host.ConfigManager.NetworkSystem
		vanilla := simulator.Map.Get(ref).(*simulator.HostNetworkSystem)
		vanilla.NetworkInfo = host.Config.Network
		simulator.Map.Put(&networkSystem{HostNetworkSystem: *vanilla, dc: dc})

		services := &serviceSystem{host: &host.HostSystem}
		services.Self = types.ManagedObjectReference{
			Type: "HostServiceSystem", Value: "serviceSystem-" + host.Self.Value,
		}
		services.ServiceInfo = *host.Config.Service
		simulator.Map.Put(services)
		host.ConfigManager.ServiceSystem = &services.Self

		access := &accessManager{host: &host.HostSystem}
		access.Self = types.ManagedObjectReference{
			Type: "HostAccessManager", Value: "hostAccessManager-" + host.Self.Value,
		}
		access.LockdownMode = host.Config.LockdownMode
		simulator.Map.Put(access)
		host.ConfigManager.HostAccessManager = &access.Self
	}
}

// networkSystem is vcsim's HostNetworkSystem with the networking additions.
type networkSystem struct {
	simulator.HostNetworkSystem

	dc *simulator.Datacenter
}

func (s *networkSystem) vswitch(name string) *types.HostVirtualSwitch {
	for i := range s.NetworkInfo.Vswitch {
		if s.NetworkInfo.Vswitch[i].Name == name {
			return &s.NetworkInfo.Vswitch[i]
		}
	}
	return nil
}

func (s *networkSystem) portgroup(name string) int {
	for i := range s.NetworkInfo.Portgroup {
		if s.NetworkInfo.Portgroup[i].Spec.Name == name {
			return i
		}
	}
	return -1
}

// uplinks returns the pNIC keys a switch spec bridges to, checking that each pNIC exists and
// that no switch other than self uses it.
func (s *networkSystem) uplinks(spec *types.HostVirtualSwitchSpec, self string) ([]string, types.BaseMethodFault) {
	var devices []string
	switch bridge := spec.Bridge.(type) {
	case *types.HostVirtualSwitchBondBridge:
		devices = bridge.NicDevice
	case *types.HostVirtualSwitchSimpleBridge:
		devices = []string{bridge.NicDevice}
	}
	var keys []string
	for _, device := range devices {
		key := ""
		for _, pnic := range s.NetworkInfo.Pnic {
			if pnic.Device == device {
				key = pnic.Key
			}
		}
		if key == "" {
			return nil, &types.NotFound{}
		}
		for _, other := range s.NetworkInfo.Vswitch {
			if other.Name == self {
				continue
			}
			for _, used := range other.Pnic {
				if used == key {
					return nil, &types.ResourceInUse{Type: "PhysicalNic", Name: device}
				}
			}
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func applySwitchSpec(vswitch *types.HostVirtualSwitch, spec types.HostVirtualSwitchSpec, pnics []string) {
	vswitch.Spec = spec
	vswitch.Pnic = pnics
	vswitch.NumPorts = spec.NumPorts
	vswitch.NumPortsAvailable = spec.NumPorts
	vswitch.Mtu = spec.Mtu
	if vswitch.Mtu == 0 {
		vswitch.Mtu = defaultMTU
	}
}

// AddVirtualSwitch adds a standard switch with the spec's uplinks, ports and MTU.
func (s *networkSystem) AddVirtualSwitch(req *types.AddVirtualSwitch) soap.HasFault {
	body := &methods.AddVirtualSwitchBody{}
	if req.VswitchName == "" {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "vswitchName"})
		return body
	}
	if s.vswitch(req.VswitchName) != nil {
		body.Fault_ = simulator.Fault("", &types.AlreadyExists{Name: req.VswitchName})
		return body
	}
	spec := types.HostVirtualSwitchSpec{NumPorts: 128}
	if req.Spec != nil {
		spec = *req.Spec
	}
	pnics, fault := s.uplinks(&spec, req.VswitchName)
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	vswitch := types.HostVirtualSwitch{Name: req.VswitchName, Key: vswitchKeyPrefix + req.VswitchName}
	applySwitchSpec(&vswitch, spec, pnics)
	s.NetworkInfo.Vswitch = append(s.NetworkInfo.Vswitch, vswitch)
	body.Res = &types.AddVirtualSwitchResponse{}
	return body
}

// UpdateVirtualSwitch replaces a standard switch's spec (uplinks, ports, MTU, policy).
func (s *networkSystem) UpdateVirtualSwitch(req *types.UpdateVirtualSwitch) soap.HasFault {
	body := &methods.UpdateVirtualSwitchBody{}
	vswitch := s.vswitch(req.VswitchName)
	if vswitch == nil {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	pnics, fault := s.uplinks(&req.Spec, req.VswitchName)
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	applySwitchSpec(vswitch, req.Spec, pnics)
	body.Res = &types.UpdateVirtualSwitchResponse{}
	return body
}

// network returns the datacenter's standard Network of that name, or nil.
func (s *networkSystem) network(name string) *mo.Network {
	if net, ok := simulator.Map.FindByName(name, s.dc.Network).(*mo.Network); ok {
		return net
	}
	return nil
}

// connect connects the host to the datacenter's Network of that name, creating it if needed.
func (s *networkSystem) connect(ctx *simulator.Context, name string) types.BaseMethodFault {
	net := s.network(name)
	if net == nil {
		if other := simulator.Map.FindByName(name, s.dc.Network); other != nil {
			return &types.DuplicateName{Name: name, Object: other.Reference()}
		}
		folder := simulator.Map.Get(s.dc.NetworkFolder).(*simulator.Folder)
		net = &mo.Network{}
		net.Name = name
		ctx.WithLock(folder, func() {
			simulator.Map.PutEntity(&folder.Folder, net)
			folder.ChildEntity = append(folder.ChildEntity, net.Self)
		})
		net.Summary = &types.NetworkSummary{Network: &net.Self, Name: name, Accessible: true}
		simulator.Map.AddReference(s.dc, &s.dc.Network, net.Self)
	}
	simulator.Map.AddReference(net, &net.Host, s.Host.Self)
	simulator.Map.AddReference(s.Host, &s.Host.Network, net.Self)
	return nil
}

// disconnect disconnects the host from the Network of that name, and removes the Network when
// no host uses it any more.
func (s *networkSystem) disconnect(ctx *simulator.Context, name string) {
	net := s.network(name)
	if net == nil {
		return
	}
	simulator.Map.RemoveReference(s.Host, &s.Host.Network, net.Self)
	simulator.Map.RemoveReference(net, &net.Host, s.Host.Self)
	if len(net.Host) > 0 || len(net.Vm) > 0 {
		return
	}
	folder := simulator.Map.Get(s.dc.NetworkFolder).(*simulator.Folder)
	simulator.Map.Remove(net.Self)
	simulator.Map.RemoveReference(folder, &folder.ChildEntity, net.Self)
	simulator.Map.RemoveReference(s.dc, &s.dc.Network, net.Self)
}

func validVlan(spec types.HostPortGroupSpec) bool {
	return spec.VlanId >= 0 && spec.VlanId <= maxVlanID
}

// AddPortGroup adds a standard port group to a switch and connects the host to its Network.
func (s *networkSystem) AddPortGroup(ctx *simulator.Context, req *types.AddPortGroup) soap.HasFault {
	body := &methods.AddPortGroupBody{}
	spec := req.Portgrp
	var fault types.BaseMethodFault
	vswitch := s.vswitch(spec.VswitchName)
	switch {
	case spec.Name == "":
		fault = &types.InvalidArgument{InvalidProperty: "portgrp.name"}
	case !validVlan(spec):
		fault = &types.InvalidArgument{InvalidProperty: "portgrp.vlanId"}
	case vswitch == nil:
		fault = &types.NotFound{}
	case s.portgroup(spec.Name) >= 0:
		fault = &types.AlreadyExists{Name: spec.Name}
	default:
		fault = s.connect(ctx, spec.Name)
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	key := portgroupKeyPrefix + spec.Name
	group := types.HostPortGroup{Key: key, Vswitch: vswitch.Key, Spec: spec}
	if vswitch.Spec.Policy != nil {
		group.ComputedPolicy = *vswitch.Spec.Policy
	}
	vswitch.Portgroup = append(vswitch.Portgroup, key)
	s.NetworkInfo.Portgroup = append(s.NetworkInfo.Portgroup, group)
	body.Res = &types.AddPortGroupResponse{}
	return body
}

// UpdatePortGroup replaces a port group's spec: VLAN ID, policy, or the switch it is on.
func (s *networkSystem) UpdatePortGroup(req *types.UpdatePortGroup) soap.HasFault {
	body := &methods.UpdatePortGroupBody{}
	spec := req.Portgrp
	i := s.portgroup(req.PgName)
	var fault types.BaseMethodFault
	target := s.vswitch(spec.VswitchName)
	switch {
	case i < 0 || target == nil:
		fault = &types.NotFound{}
	case spec.Name != req.PgName:
		fault = &types.NotSupported{}
	case !validVlan(spec):
		fault = &types.InvalidArgument{InvalidProperty: "portgrp.vlanId"}
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	group := &s.NetworkInfo.Portgroup[i]
	if target.Key != group.Vswitch {
		for j := range s.NetworkInfo.Vswitch {
			removeString(&s.NetworkInfo.Vswitch[j].Portgroup, group.Key)
		}
		target = s.vswitch(spec.VswitchName)
		target.Portgroup = append(target.Portgroup, group.Key)
		group.Vswitch = target.Key
	}
	group.Spec = spec
	if target.Spec.Policy != nil {
		group.ComputedPolicy = *target.Spec.Policy
	}
	body.Res = &types.UpdatePortGroupResponse{}
	return body
}

// RemovePortGroup removes a port group no VMkernel NIC uses.
func (s *networkSystem) RemovePortGroup(ctx *simulator.Context, req *types.RemovePortGroup) soap.HasFault {
	body := &methods.RemovePortGroupBody{}
	i := s.portgroup(req.PgName)
	if i < 0 {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	for _, vnic := range s.NetworkInfo.Vnic {
		if vnic.Portgroup == req.PgName {
			body.Fault_ = simulator.Fault("", &types.ResourceInUse{Type: "HostPortGroup", Name: req.PgName})
			return body
		}
	}
	key := s.NetworkInfo.Portgroup[i].Key
	for j := range s.NetworkInfo.Vswitch {
		removeString(&s.NetworkInfo.Vswitch[j].Portgroup, key)
	}
	s.NetworkInfo.Portgroup = append(s.NetworkInfo.Portgroup[:i], s.NetworkInfo.Portgroup[i+1:]...)
	s.disconnect(ctx, req.PgName)
	body.Res = &types.RemovePortGroupResponse{}
	return body
}

func removeString(list *[]string, value string) {
	for i, item := range *list {
		if item == value {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return
		}
	}
}

// serviceSystem is a host's HostServiceSystem; serviceInfo is host.config.service.
type serviceSystem struct {
	mo.HostServiceSystem

	host *mo.HostSystem
}

// change applies f to the service with that key, under the host's lock.
func (s *serviceSystem) change(ctx *simulator.Context, id string, f func(*types.HostService)) types.BaseMethodFault {
	var fault types.BaseMethodFault = &types.NotFound{}
	ctx.WithLock(s.host, func() {
		services := s.host.Config.Service.Service
		for i := range services {
			if services[i].Key == id {
				f(&services[i])
				fault = nil
			}
		}
		s.ServiceInfo = *s.host.Config.Service
	})
	return fault
}

func faultOrNil(fault types.BaseMethodFault) *soap.Fault {
	if fault == nil {
		return nil
	}
	return simulator.Fault("", fault)
}

// StartService marks a service running.
func (s *serviceSystem) StartService(ctx *simulator.Context, req *types.StartService) soap.HasFault {
	fault := s.change(ctx, req.Id, func(svc *types.HostService) { svc.Running = true })
	if fault != nil {
		return &methods.StartServiceBody{Fault_: faultOrNil(fault)}
	}
	return &methods.StartServiceBody{Res: &types.StartServiceResponse{}}
}

// StopService marks a service stopped.
func (s *serviceSystem) StopService(ctx *simulator.Context, req *types.StopService) soap.HasFault {
	fault := s.change(ctx, req.Id, func(svc *types.HostService) { svc.Running = false })
	if fault != nil {
		return &methods.StopServiceBody{Fault_: faultOrNil(fault)}
	}
	return &methods.StopServiceBody{Res: &types.StopServiceResponse{}}
}

// RestartService marks a service running.
func (s *serviceSystem) RestartService(ctx *simulator.Context, req *types.RestartService) soap.HasFault {
	fault := s.change(ctx, req.Id, func(svc *types.HostService) { svc.Running = true })
	if fault != nil {
		return &methods.RestartServiceBody{Fault_: faultOrNil(fault)}
	}
	return &methods.RestartServiceBody{Res: &types.RestartServiceResponse{}}
}

// UpdateServicePolicy sets a service's startup policy: "on", "off" or "automatic".
func (s *serviceSystem) UpdateServicePolicy(ctx *simulator.Context, req *types.UpdateServicePolicy) soap.HasFault {
	switch types.HostServicePolicy(req.Policy) {
	case types.HostServicePolicyOn, types.HostServicePolicyOff, types.HostServicePolicyAutomatic:
	default:
		return &methods.UpdateServicePolicyBody{
			Fault_: simulator.Fault("", &types.InvalidArgument{InvalidProperty: "policy"}),
		}
	}
	fault := s.change(ctx, req.Id, func(svc *types.HostService) { svc.Policy = req.Policy })
	if fault != nil {
		return &methods.UpdateServicePolicyBody{Fault_: faultOrNil(fault)}
	}
	return &methods.UpdateServicePolicyBody{Res: &types.UpdateServicePolicyResponse{}}
}

// RefreshServices changes nothing: the simulated services have no other state.
func (s *serviceSystem) RefreshServices(req *types.RefreshServices) soap.HasFault {
	return &methods.RefreshServicesBody{Res: &types.RefreshServicesResponse{}}
}

// accessManager is a host's HostAccessManager; lockdownMode is host.config.lockdownMode.
type accessManager struct {
	mo.HostAccessManager

	host *mo.HostSystem
}

// ChangeLockdownMode sets the host's lockdown mode.
func (m *accessManager) ChangeLockdownMode(ctx *simulator.Context, req *types.ChangeLockdownMode) soap.HasFault {
	switch req.Mode {
	case types.HostLockdownModeLockdownDisabled, types.HostLockdownModeLockdownNormal,
		types.HostLockdownModeLockdownStrict:
	default:
		return &methods.ChangeLockdownModeBody{
			Fault_: simulator.Fault("", &types.InvalidArgument{InvalidProperty: "mode"}),
		}
	}
	ctx.WithLock(m.host, func() {
		m.host.Config.LockdownMode = req.Mode
		m.LockdownMode = req.Mode
	})
	return &methods.ChangeLockdownModeBody{Res: &types.ChangeLockdownModeResponse{}}
}

// singleNic leaves the last count hosts (by name) with their first physical NIC only: a host
// the guide's "at least two physical NICs" rules out, to move a VM onto in mutation tests.
func singleNic(count int) {
	var hosts []*simulator.HostSystem
	for _, entity := range simulator.Map.All("HostSystem") {
		hosts = append(hosts, entity.(*simulator.HostSystem))
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	for _, host := range hosts[len(hosts)-count:] {
		network := host.Config.Network
		network.Pnic = network.Pnic[:1]
	}
}
