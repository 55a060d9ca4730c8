"""The site's scratch Management Node, where the guides' actions are performed.

Several sections act on it rather than on a verified system: certificate actions, the order of
deployment (no Conferencing Node before the bootstrap) and the web session limits. The
``workbench`` fixture (`accord.pexip.workbench`) is the node made factory-fresh for a scenario,
with what the scenario made removed afterwards; the console is the node's
(`accord.pexip.console`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_bdd import given

from accord.pexip.console import Console, console_for
from accord.pexip.workbench import Workbench
from accord.site import Site
from accord.systems import Systems
from steps.scratch import scratch_only

NO_SCRATCH_NODE = "the site names no scratch Management Node ([systems.pexip.scratch])"


@pytest.fixture
def scratch_console(site: Site) -> Iterator[Console]:
    """The scratch Management Node's console."""
    console = console_for(site, "scratch")
    yield console
    console.close()


@pytest.fixture
def workbench(systems: Systems) -> Iterator[Workbench]:
    """The site's scratch Management Node, factory-fresh on the simulator (`steps.scratch`: never
    on a verified system, nor where the target refuses actions); what a scenario made is removed
    afterwards."""
    with scratch_only(systems, why=NO_SCRATCH_NODE):
        client = systems.scratch()
    systems.prepare_scratch()
    bench = Workbench(client, systems.addresses("scratch"))
    yield bench
    bench.cleanup()


@given("a scratch Management Node")
def scratch(workbench: Workbench) -> Workbench:
    """The site's scratch Management Node (never a verified one)."""
    return workbench
