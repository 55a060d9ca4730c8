"""Steps for Conferencing Node deployment: deployed manually, and not before the Management
Node bootstrap.

The verified deployment's Conferencing Nodes show their deployment type in the API. The order of
deployment is performed on the site's scratch Management Node (`accord.pexip.workbench`) through
its console (`accord.pexip.console`): the simulator's console stand-in can show the bootstrap
incomplete; a real console cannot be put back into that state, so there the scenario is reported
not run and the verified deployment's bootstrap is attested instead (CONF-01's other scenario).
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, then, when

from accord import inventory
from accord.pexip import baseline
from accord.pexip.console import Console
from accord.pexip.workbench import Outcome, Workbench
from accord.site import Site
from steps.common import Observe

Obj = dict[str, Any]


# The API's deployment types (Platform > Conferencing Nodes > Add: "Deployment type"): every
# "MANUAL-..." one is a manual deployment (ESXi, Hyper-V, KVM, Xen, or "Generic (configuration
# only)"); "VMWARE" is the automatic deployment through vCenter the guide rules out.
AUTOMATIC_DEPLOYMENT = "VMWARE"


@then("every Conferencing Node has a manual deployment type")
def manual_deployment(nodes: list[Obj], observe: Observe) -> None:
    workers = {
        inventory.label(n, nodes): n.get("deployment_type") for n in nodes if "deployment_type" in n
    }
    observe("deployment types", workers)
    assert workers, "no Conferencing Node lists a deployment type"
    automatic = {
        name: kind
        for name, kind in workers.items()
        if kind == AUTOMATIC_DEPLOYMENT or not str(kind).startswith("MANUAL-")
    }
    assert not automatic, f"not deployed manually: {automatic}"


@given("its security wizard has not been run")
def wizard_not_run(scratch_console: Console) -> None:
    """The scratch node was just made factory-fresh (``Systems.prepare_scratch``), which only
    the simulator can do; with a real console the scenario is reported not run."""
    if scratch_console.bootstrap_complete() is None:
        pytest.skip(
            "not run: the scratch Management Node's console cannot be put back before its "
            "bootstrap here (a real console)"
        )


@when("the deployer is asked to deploy a Conferencing Node", target_fixture="deployment")
def deploy_node(workbench: Workbench, scratch_console: Console, site: Site) -> Outcome:
    return workbench.deploy_conferencing_node(scratch_console, site)


@when("the security wizard is run on its console with the site's answers")
def run_wizard(scratch_console: Console, site: Site) -> None:
    scratch_console.run_security_wizard(baseline.security_wizard_answers(site))


@then("the deployer refuses because the bootstrap is not complete, and adds no Conferencing Node")
def refused(deployment: Outcome, workbench: Workbench, observe: Observe) -> None:
    names = [node["name"] for node in workbench.client.list("worker_vm")]
    observe("the deployer's answer", deployment.observation() | {"nodes": names})
    assert not deployment.accepted, f"a Conferencing Node was added: {deployment.uri}"
    assert "bootstrap is not complete" in deployment.message, deployment.message
    assert f"accord-{workbench.token}" not in names


@then("the deployer adds the Conferencing Node")
def added(deployment: Outcome, observe: Observe) -> None:
    observe("the deployer's answer", deployment.observation())
    assert deployment.accepted, deployment.error_text()
