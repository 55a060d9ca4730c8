"""`accord sim`: start every simulator of the lab, write the site file that reaches them, print
one line per system and the ready line (`lab.process`), and serve until stopped.

The primary deployment is `LabShape`'s size (``--nodes``, ``--locations``); its Pexip VMs are
spread over as many ESXi hosts as their IOPS limits need, with one more host of a single NIC
that runs nothing (mutation tests move a VM onto it).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.site import Site, load_site
from lab.directory import LabDirectoryError
from lab.process import ready_line, system_line
from lab.site import LabShape

if TYPE_CHECKING:
    from simulator.pexip import ManagementNodeSimulator


def _load(path: str | None) -> Site | None:
    return load_site(path) if path else None


def _seeds(shape: LabShape) -> dict[str, Any]:
    from simulator.pexip import Seed

    return {
        "primary": _primary_seed(shape),
        "contingency": Seed(domain="contingency.example.com", address_prefix="198.51.100."),
        # Where scenarios of the guides' actions (uploads, CSRs, imports) run: never verified.
        "scratch": Seed(
            domain="scratch.example.com",
            address_prefix="203.0.113.",
            conferencing_nodes=2,
            locations=1,
        ),
    }


def _primary_seed(shape: LabShape) -> Any:
    """The primary deployment: the documentation network 192.0.2.0/24 for up to 230
    Conferencing Nodes, else a private network just large enough (down to a /20)."""
    from simulator.pexip import Seed
    from simulator.pexip.seed import FIRST_CONFERENCING_HOST

    if FIRST_CONFERENCING_HOST + shape.nodes < 254:
        return Seed(conferencing_nodes=shape.nodes, locations=shape.locations)
    bits = 24
    while FIRST_CONFERENCING_HOST + shape.nodes >= 2 ** (32 - bits) - 1:
        bits -= 1
    return Seed(
        conferencing_nodes=shape.nodes,
        locations=shape.locations,
        address_prefix="10.20.0.",
        network_bits=bits,
    )


VMS_PER_HOST = 8  # the lab datastore sustains 10 two-disk VMs at their IOPS limits (VM-DISK-03)


def _vm_specs(names: list[str], host: str, powered_on: bool) -> list[Any]:
    """The Pexip VMs as a fresh deployment creates them: the Management Node first."""
    from simulator.vcsim.seed import VmSpec

    specs = []
    for index, name in enumerate(names):
        manager = index == 0
        specs.append(
            VmSpec(
                name=name,
                host=host,
                cpus=4 if manager else 8,
                memory_mb=8192 if manager else 16384,
                disks_gb=(100,) if manager else (100, 50),
                powered_on=powered_on,
            )
        )
    return specs


def _inventory(sim: ManagementNodeSimulator) -> tuple[list[str], list[str]]:
    """The names of a simulated deployment's nodes (Management Node first) and locations."""
    from simulator.pexip.resources import MANAGEMENT_VM, SYSTEM_LOCATION, WORKER_VM

    def names(state: Any) -> tuple[list[str], list[str]]:
        def of(rdef: Any) -> list[str]:
            rows = state.table(rdef).rows
            return [rows[key]["name"] for key in sorted(rows)]

        return of(MANAGEMENT_VM) + of(WORKER_VM), of(SYSTEM_LOCATION)

    return sim.model.read_state(names)


def _not_observable(sim: ManagementNodeSimulator) -> dict[str, str]:
    """What this simulator cannot show, by requirement ID (the site file carries it)."""
    network = sim.network
    if network is None or network.firewall.available:
        return {}
    why = network.firewall.why_unavailable
    return {"SECW-04": f"the simulator cannot drop packets to closed ports: {why}"}


def _start_vcenter(site: Site | None, directory: Path, shape: LabShape) -> tuple[Any, Any] | None:
    """vcsim with the site's Pexip VMs (the lab's without --site), factory-fresh: the primary
    deployment on the first hosts (``VMS_PER_HOST`` each), the contingency deployment on the
    next, and one more host with a single physical NIC that runs nothing (mutation tests move a
    VM onto it)."""
    from lab.site import SimVcenter, lab_vsphere, vcenter_password
    from simulator.vcsim.launcher import VcsimProcess
    from simulator.vcsim.seed import InventorySpec, seed

    if site is not None and site.model.vsphere is None:
        return None
    vms = (
        site.model.vsphere.vms.model_dump()
        if site and site.model.vsphere
        else lab_vsphere(shape)["vms"]
    )
    username = (
        site.systems.vsphere.username
        if site and site.systems.vsphere
        else "administrator@vsphere.local"
    )
    password = vcenter_password(site)
    primary = vms["primary"]
    groups = [primary[i : i + VMS_PER_HOST] for i in range(0, len(primary), VMS_PER_HOST)]
    hosts = len(groups) + 2
    process = VcsimProcess(directory, username, password, hosts=hosts, single_nic_hosts=1).start()
    try:
        si = process.connect()
        # vcsim names its hosts DC0_H0, DC0_H1, ... and leaves the last by name with one NIC.
        names = sorted(f"DC0_H{i}" for i in range(hosts))
        usable = sorted(names[:-1], key=lambda name: int(name.removeprefix("DC0_H")))
        specs = [
            spec
            for group, host in zip(groups, usable, strict=False)
            for spec in _vm_specs(group, host, powered_on=True)
        ]
        contingency = _vm_specs(vms.get("contingency", []), usable[len(groups)], powered_on=True)
        spec = InventorySpec(vms=tuple(specs + contingency))
        seed(si, spec)
    except BaseException:
        process.stop()
        raise
    return process, SimVcenter(process.url, username, password, process.ca_file)


def _start_beyondtrust(site: Site | None, directory: Path) -> tuple[Any, Any] | None:
    """The simulated BeyondTrust appliances of the site (the lab's without --site), each in its
    factory state (only the "BeyondTrust Appliance" certificate) with a TLS listener on
    loopback; ``None`` when the site names none."""
    from lab.site import SimBeyondTrust, beyondtrust_appliances, beyondtrust_login
    from simulator.beyondtrust import ApplianceSpec, BeyondTrustSimulator

    appliances = beyondtrust_appliances(site)
    if not appliances:
        return None
    username, password = beyondtrust_login(site)
    specs = [
        ApplianceSpec(name, hostname, role)  # type: ignore[arg-type]
        for name, (hostname, role) in appliances.items()
    ]
    sim = BeyondTrustSimulator(specs, username=username, password=password, workdir=directory)
    sim.start()
    listeners = sim.listeners
    reached = {
        name: (hostname, role, *listeners[name]) for name, (hostname, role) in appliances.items()
    }
    return sim, SimBeyondTrust(sim.url, username, password, sim.ca_file, reached)


def run(args: argparse.Namespace) -> int:
    """Start the simulators in the foreground and write a site file for them; 2 (one line)
    when the lab cannot simulate the site or shape asked for."""
    try:
        return _run(args)
    except LabDirectoryError as exc:  # the lab cannot serve the site's LDAP values
        print(f"accord sim: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from lab.directory import LabDirectory
    from lab.site import LabSite, SimSystem, admin_password, write_site
    from simulator.pexip import ManagementNodeSimulator

    site = _load(args.site)
    try:
        shape = LabShape(args.nodes, args.locations)
    except ValueError as exc:
        print(f"accord sim: {exc}", file=sys.stderr)
        return 2
    directory = (
        Path(args.write_site) if args.write_site else Path(tempfile.mkdtemp(prefix="accord-sim-"))
    )
    lab = LabSite.prepare(directory, site, shape)
    simulators: dict[str, ManagementNodeSimulator] = {}
    stoppers: list[Any] = []
    systems: dict[str, SimSystem] = {}
    usernames = {
        role: getattr(site.systems.pexip, role).username
        if site is not None and getattr(site.systems.pexip, role) is not None
        else "admin"
        for role in ("primary", "contingency", "scratch")
    }
    try:
        ldap = LabDirectory.start(
            lab, local_username=usernames["primary"], session_users=lab.session_users_needed
        )
        stoppers.append(ldap.stop)
        for role, seed in _seeds(shape).items():
            username = usernames[role]
            password = admin_password(site, role)
            sim = ManagementNodeSimulator(
                name=f"pexip-{role}",
                username=username,
                password=password,
                workdir=directory,
                seed=seed,
                node_listeners=True,
                sync_delay=args.sync_delay,
                enforce_authentication=True,
                ldap_resolve=ldap.resolve,
            )
            sim.start()
            simulators[role] = sim
            systems[role] = SimSystem(
                sim.url,
                username,
                password,
                sim.ca_file,
                sim.server_name,
                sim.address_map,
                sim.port_map,
                _not_observable(sim),
                # The verified deployments' inventory, declared in the site file; the scratch
                # node's changes with the guides' actions.
                *(_inventory(sim) if role != "scratch" else (None, None)),
            )
        vcenter = _start_vcenter(site, directory, shape)
        if vcenter is not None:
            stoppers.append(vcenter[0].stop)
        beyondtrust = _start_beyondtrust(site, directory)
        if beyondtrust is not None:
            stoppers.append(beyondtrust[0].stop)
        site_path = write_site(
            lab,
            systems,
            vcenter[1] if vcenter else None,
            ldap.site_certificates(directory),
            ldap.session_users,
            {"lab_directory_administrator_password": ldap.directory_administrator_password},
            beyondtrust[1] if beyondtrust else None,
        )
        if vcenter is not None:
            vc = vcenter[1]
            print(system_line("vsphere", vc.url, vc.username, vc.password))
        for role, system in systems.items():
            print(system_line(f"pexip-{role}", system.url, system.username, system.password))
        if beyondtrust is not None:
            bt = beyondtrust[1]
            print(system_line("beyondtrust", bt.url, bt.username, bt.password))
        print(ready_line(site_path), flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        for sim in simulators.values():
            sim.stop()
        for stop_ in stoppers:
            stop_()
    return 0
