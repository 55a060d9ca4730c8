"""The nodes the wire steps probe (the security wizard's answers and SNMP on the wire), and
how their probes are planned.

Every step probes every node of each deployment the site names (the primary and, when named,
the contingency deployment), reached where that deployment's address map says
(`accord.probes`: TLS negotiation, HTTP, TCP connect, SIP OPTIONS, SNMP GET), and records each
probe's observation under the node's name and deployment: what was sent and what came back
(never a secret). A step's probes are planned from the systems alone (a plan function), so the
run starts them with every other scenario's when it begins (`steps.common.wire`): a probe that
expects silence waits out the site's ``silence_timeout`` at the same time as all the others.
Every timeout is a site setting (``[verification]``).

A step expecting silence (SSH closed, a closed port dropping, SNMP unanswered) would also pass
against a node that cannot be reached at all; its scenario also shows that the same node
answers where it must (HTTPS, SNMPv3 with SHA1/AES-128, TLS with AES-GCM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_bdd import given

from accord.network import Endpoint
from accord.pexip.certificates import node_fqdn
from accord.pexip.deployment import Deployment
from accord.probes.wire import Named, Probe
from accord.systems import DEPLOYMENTS, Systems
from steps.common import Observe, nodes_of

Obj = dict[str, Any]
HTTPS = 443


@dataclass(frozen=True)
class WireNode:
    """A node of one deployment the site names, as the wire steps probe it."""

    deployment: str  # "primary" or "contingency"
    node: Obj

    @property
    def name(self) -> str:
        """The node's name and its deployment, as the evidence shows it."""
        return f"{self.node['name']} ({self.deployment})"

    @property
    def conferencing(self) -> bool:
        return "/worker_vm/" in self.node["resource_uri"]

    @property
    def fqdn(self) -> str:
        return node_fqdn(self.node)

    def endpoint(self, systems: Systems, port: int) -> Endpoint:
        """Where ``port`` of this node is reached: its deployment's address and port maps."""
        return systems.addresses(self.deployment).endpoint(self.node["address"], port)


def wire_nodes(systems: Systems) -> list[WireNode]:
    """The Management Node and every Conferencing Node of each deployment the site names
    (two list reads per deployment, remembered for the run)."""
    return [
        WireNode(deployment, node)
        for deployment in systems.on_the_wire()
        for node in Deployment(systems.pexip(deployment), f"pexip-{deployment}").nodes()
    ]


@given(
    "the nodes of each deployment the site names, primary and contingency",
    target_fixture="every_node",
)
def every_node(systems: Systems, observe: Observe) -> list[WireNode]:
    """Every node the wire steps probe: the primary deployment's and, when the site names one,
    the contingency deployment's (the guide's fallback system "should mimic the primary
    installation"). Each deployment's nodes as its site file declares them (`shown`): nothing
    is probed, and nothing passes, on a deployment that shows none."""
    for deployment in systems.on_the_wire():
        nodes_of(systems, deployment)
    found = wire_nodes(systems)
    observe("nodes probed", {n.name: n.endpoint(systems, HTTPS).host for n in found})
    off = [d for d in DEPLOYMENTS if systems.has(d) and d not in systems.on_the_wire()]
    if off:
        observe(
            "not probed: kept powered off (the site file's powered_off; CONT-05)",
            [f"pexip-{d}" for d in off],
        )
    return found


Plan = Callable[[list[WireNode], Systems], Named[Any]]


def prefetch(plan: Plan) -> Callable[[Systems], list[Probe[Any]]]:
    """The probes ``plan`` will send to every node of each deployment (read as the Given step
    reads them), for the run to start early."""

    def probes(systems: Systems) -> list[Probe[Any]]:
        return [one for _, one in plan(wire_nodes(systems), systems)]

    return probes


def record(observe: Observe, what: str, results: list[tuple[str, Any]]) -> None:
    observe(what, {name: result.observation() for name, result in results})
