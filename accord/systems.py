"""Connections to the systems a site file names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from accord.beyondtrust.client import BeyondTrustClient
from accord.http import Limits, RunBudget
from accord.network import AddressMap, Endpoint
from accord.pexip.client import PexipClient
from accord.recording.recorder import Recorder
from accord.site import Site
from accord.vsphere.client import VsphereError, connect, disconnect
from accord.vsphere.inventory import Inventory

DEPLOYMENTS = ("primary", "contingency")
T = TypeVar("T")


def pexip_client(
    site: Site,
    deployment: str,
    *,
    read_only: bool = True,
    remember_reads: bool = False,
    budget: RunBudget | None = None,
) -> PexipClient:
    """A client for the site's primary or contingency Management Node (``remember_reads``:
    `PexipClient`'s), with the site's request limits; ``budget``: the run's (default: a new
    one of the site's ``run_budget``)."""
    system = getattr(site.systems.pexip, deployment)
    if system is None:
        raise LookupError(f"{site.path}: no [systems.pexip.{deployment}] in the site file")
    return PexipClient(
        system.url,
        system.username,
        site.resolve(system.password),
        ca_bundle=site.file(system.ca_bundle),
        server_name=system.tls_server_name,
        read_only=read_only,
        client_certificate=site.client_certificate(deployment),
        remember_reads=remember_reads,
        system=f"pexip-{deployment}",
        limits=Limits.of(site.verification),
        budget=budget or RunBudget.of(site.verification),
    )


def vsphere_connection(site: Site, budget: RunBudget | None = None) -> Any:
    """A pyvmomi ServiceInstance for the site's vCenter (`LookupError` if it names none), with
    the site's request limits and ``budget`` (default: a new one of its ``run_budget``)."""
    system = site.systems.vsphere
    if system is None:
        raise LookupError(f"{site.path}: no [systems.vsphere] in the site file")
    return connect(
        system.url,
        system.username,
        site.resolve(system.password),
        site.file(system.ca_bundle),
        limits=Limits.of(site.verification),
        budget=budget or RunBudget.of(site.verification),
    )


def beyondtrust_client(
    site: Site, *, read_only: bool = True, budget: RunBudget | None = None
) -> BeyondTrustClient:
    """A client for the certificate API of the site's simulated BeyondTrust appliances
    (``[systems.beyondtrust] api_url``). A real appliance has no such API: `LookupError` when the
    site names none."""
    system = site.systems.beyondtrust
    if system is None or system.api_url is None or system.password is None:
        raise LookupError(
            f"{site.path}: no [systems.beyondtrust] api_url (only the simulator has a certificate "
            "API; a real appliance is verified on the wire)"
        )
    return BeyondTrustClient(
        system.api_url,
        system.username,
        site.resolve(system.password),
        ca_bundle=site.file(system.ca_bundle),
        read_only=read_only,
        limits=Limits.of(site.verification),
        budget=budget or RunBudget.of(site.verification),
    )


@dataclass(frozen=True)
class BeyondTrustAppliance:
    """An appliance the site names: its name, FQDN, role and where its TLS listener is reached."""

    name: str
    hostname: str
    role: str
    endpoint: Endpoint


def beyondtrust_appliances(site: Site) -> list[BeyondTrustAppliance]:
    """The site's BeyondTrust appliances in the site file's order (none when it names none)."""
    system = site.systems.beyondtrust
    if system is None:
        return []
    return [
        BeyondTrustAppliance(
            name,
            a.hostname,
            a.role,
            Endpoint(a.hostname, 443, a.address or a.hostname, a.port),
        )
        for name, a in system.appliances.items()
    ]


@dataclass
class Systems:
    """What the steps verify: read-only clients for the systems a site names."""

    site: Site
    target: str
    reset_scratch: Callable[[], None] | None = None
    recorder: Recorder | None = None  # recording or replaying each scenario (`scenario`)
    actions_refused: str | None = None  # why the guides' actions are not run on this target
    _pexip: dict[str, PexipClient] = field(default_factory=dict)
    _vsphere: Any = None
    _inventory: Inventory | None = None
    _addresses: dict[str, AddressMap] = field(default_factory=dict)
    _sent: dict[str, Counter[str]] = field(default_factory=dict)  # of the clients closed
    _failed: dict[str, VsphereError] = field(default_factory=dict)
    budget: RunBudget = field(init=False)  # the run's: every client of this site shares it

    def __post_init__(self) -> None:
        self.budget = RunBudget.of(self.site.verification)

    def pexip(self, deployment: str = "primary") -> PexipClient:
        """The read-only client of the primary (or contingency) Management Node. It reads each
        list once per run, unless the run is recorded or replayed (each scenario's cassette
        must then hold its own requests)."""
        if deployment not in self._pexip:
            self._pexip[deployment] = pexip_client(
                self.site,
                deployment,
                read_only=True,
                remember_reads=self.recorder is None,
                budget=self.budget,
            )
        return self._pexip[deployment]

    def has(self, deployment: str) -> bool:
        return getattr(self.site.systems.pexip, deployment) is not None

    def on_the_wire(self) -> list[str]:
        """The deployments whose nodes can be probed: every one the site names, but one whose
        VMs it says are kept powered off (``powered_off``)."""
        systems = self.site.systems.pexip
        return [
            d
            for d in DEPLOYMENTS
            if getattr(systems, d) is not None and not getattr(systems, d).powered_off
        ]

    def addresses(self, deployment: str = "primary") -> AddressMap:
        """Where this machine reaches the nodes of a deployment (the site's address map)."""
        if deployment not in self._addresses:
            system = getattr(self.site.systems.pexip, deployment)
            self._addresses[deployment] = AddressMap(system.address_map, system.port_map)
        return self._addresses[deployment]

    def prepare_scratch(self) -> None:
        """Before a scenario of actions: on `sim` the scratch node goes back to factory-fresh;
        on live nothing happens (those scenarios remove what they made)."""
        if self.reset_scratch is not None:
            self.reset_scratch()

    def scratch(self) -> PexipClient:
        """A WRITABLE client of the site's scratch Management Node: the one system where the
        guides' actions are performed. `LookupError` when the site names none, or when actions
        are refused on this target (recording and replay)."""
        if self.actions_refused is not None:
            raise LookupError(self.actions_refused)
        if "scratch" not in self._pexip:
            self._pexip["scratch"] = pexip_client(
                self.site, "scratch", read_only=False, budget=self.budget
            )
        return self._pexip["scratch"]

    def has_vsphere(self) -> bool:
        return self.site.systems.vsphere is not None and self.site.model.vsphere is not None

    def vsphere(self) -> Any:
        """A logged-in pyvmomi ServiceInstance of the site's vCenter (verification only reads).
        A vCenter that cannot be used fails every scenario with the same `VsphereError`, asked
        once per run (unless recorded or replayed)."""
        if self._vsphere is None:
            self._vsphere = self._once(
                "vsphere", lambda: vsphere_connection(self.site, self.budget)
            )
        return self._vsphere

    def inventory(self) -> Inventory:
        """vCenter's inventory of VMs and hosts (a fixed number of reads), read once per run
        unless the run is recorded or replayed (each scenario's cassette then holds its own)."""
        if self.recorder is not None:
            return Inventory.read(self.vsphere())
        if self._inventory is None:
            self._inventory = self._once("inventory", lambda: Inventory.read(self.vsphere()))
        return self._inventory

    def _once(self, what: str, ask: Callable[[], T]) -> T:
        """``ask()``; its `VsphereError` remembered and raised again (not recording)."""
        failed = self._failed.get(what)
        if failed is not None:
            raise failed.with_traceback(None)
        try:
            return ask()
        except VsphereError as exc:
            if self.recorder is None:
                self._failed[what] = exc
            raise

    def pexip_requests(self) -> dict[str, Counter[str]]:
        """What each Pexip client of this run sent, by method (``refused``: a write the
        read-only client refused before it reached the network), closed clients included."""
        counts = {name: Counter(sent) for name, sent in self._sent.items()}
        for name, client in self._pexip.items():
            counts.setdefault(f"pexip-{name}", Counter()).update(client.sent)
        return counts

    def close(self) -> None:
        for name, client in self._pexip.items():
            self._sent.setdefault(f"pexip-{name}", Counter()).update(client.sent)
            client.close()
        self._pexip.clear()
        if self._vsphere is not None:
            disconnect(self._vsphere)
            self._vsphere = None
