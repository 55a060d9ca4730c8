"""The deployer: applies the site's secure baseline, only when asked (``accord deploy``)."""

from __future__ import annotations

from collections.abc import Callable

from accord.deployer import pexip, pki, vsphere
from accord.deployer.pexip import Plan
from accord.deployer.vsphere import VspherePlan
from accord.pexip import baseline
from accord.pexip.console import Console, console_for, instructions
from accord.site import Site
from accord.systems import DEPLOYMENTS, pexip_client, vsphere_connection
from accord.vsphere.client import disconnect


def deploy(
    site: Site, *, dry_run: bool = False, out: Callable[[str], None] = print
) -> list[Plan | VspherePlan]:
    """Plan (and unless ``dry_run`` apply) the baseline: the Pexip VMs in vCenter first (when the
    site names one), then every Management Node."""
    plans: list[Plan | VspherePlan] = []
    if site.systems.vsphere is not None and site.model.vsphere is not None:
        si = vsphere_connection(site)
        try:
            layer = vsphere.plan(si, site)
            out(layer.render())
            if not dry_run and not layer.empty:
                vsphere.apply(layer)
                out(f"vsphere: changed {len(layer.changes)} VM(s)")
        finally:
            disconnect(si)
        plans.append(layer)
    for deployment in DEPLOYMENTS:
        if getattr(site.systems.pexip, deployment) is None:
            continue
        console = console_for(site, deployment)
        try:
            for line in security_wizard(console, site, dry_run=dry_run):
                out(f"pexip-{deployment}: {line}")
        finally:
            console.close()
        client = pexip_client(site, deployment, read_only=dry_run)
        try:
            plan = pexip.plan(
                client, site, f"pexip-{deployment}", contingency=deployment == "contingency"
            )
            plan.certificates = pki.plan(client, site)
            out(plan.render())
            if not dry_run and not plan.empty:
                pexip.apply(client, plan)
                waiting = pki.apply(client, site, plan.certificates)
                for line in pexip.apply_authentication(client, plan):
                    out(f"pexip-{deployment}: {line}")
                done = len(plan.changes) + len(plan.certificates) - len(waiting)
                out(f"pexip-{deployment}: applied {done} change(s)")
                for line in waiting:
                    out(f"pexip-{deployment}: {line}")
        finally:
            client.close()
        plans.append(plan)
    return plans


def security_wizard(console: Console, site: Site, *, dry_run: bool) -> list[str]:
    """The bootstrap's security wizard with the site's answers, first of all (the guide's
    order). On the simulator's console it is run (unless ``dry_run``) when it was not, or with
    other answers; a real console is a person's job: the lines say what to answer."""
    answers = baseline.security_wizard_answers(site)
    current = console.wizard_answers()
    if current is None:
        return [f"the security wizard is console-only; {instructions(answers)}"]
    differ = [name for name, value in answers.items() if current.get(name) != value]
    if console.bootstrap_complete() and not differ:
        return []
    if not dry_run:
        console.run_security_wizard(answers)
    verb = "would run" if dry_run else "ran"
    return [f"{verb} the security wizard ({len(differ)} answer(s) differed from the guide's)"]
