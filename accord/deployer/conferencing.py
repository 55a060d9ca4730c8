"""Deploying a Conferencing Node, only once the Management Node's bootstrap is complete.

The guide: "Before deploying any Conferencing Nodes, you must complete the Management Node
deployment and bootstrap configuration" (the security wizard). The wizard is console-only, so
the deployer asks the node's console (``accord.pexip.console``): the simulator's stand-in says
whether the wizard was completed; a real console cannot tell, and the site file must attest it
(requirement CONF-01) before the deployer adds a Conferencing Node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord import attestations
from accord.pexip.client import PexipClient
from accord.pexip.console import Console
from accord.site import Site


class BootstrapIncomplete(Exception):
    """The Management Node's bootstrap is not (known to be) complete: no Conferencing Node."""


def check_bootstrap(console: Console, site: Site) -> str:
    """How the bootstrap is known to be complete; raises ``BootstrapIncomplete`` otherwise."""
    complete = console.bootstrap_complete()
    if complete:
        return "the security wizard has been completed on the Management Node's console"
    if complete is False:
        raise BootstrapIncomplete(
            "refusing to deploy Conferencing Nodes: the Management Node bootstrap is not "
            "complete (run the security wizard on its console first, as the guide requires)"
        )
    try:
        found = attestations.find(site, "CONF-01")
    except attestations.AttestationMissing as missing:
        raise BootstrapIncomplete(
            "refusing to deploy Conferencing Nodes: the security wizard is console-only and "
            f"its completion cannot be read from here, and {missing}"
        ) from None
    return attestations.describe(found)


def deploy_conferencing_node(
    client: PexipClient, console: Console, site: Site, fields: Mapping[str, Any]
) -> str:
    """Add a Conferencing Node (``worker_vm`` with ``fields``) once the bootstrap is complete;
    returns its resource URI. Raises ``BootstrapIncomplete`` (nothing written) before that."""
    check_bootstrap(console, site)
    return client.create("worker_vm", fields)
