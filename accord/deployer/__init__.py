"""The deployer: applies the site's secure baseline, only when asked (``accord deploy``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from accord.beyondtrust.client import BeyondTrustClient
from accord.deployer import beyondtrust, pexip, pki, vsphere
from accord.deployer.beyondtrust import Plan as BeyondTrustPlan
from accord.deployer.pexip import Plan
from accord.deployer.vsphere import VspherePlan
from accord.deviations import deviations
from accord.http import RunBudget
from accord.pexip import baseline
from accord.pexip.console import Console, console_for, instructions
from accord.pki import PkiError, load_pem_certificates
from accord.secrets import Secret
from accord.site import Site, SiteError
from accord.systems import DEPLOYMENTS, beyondtrust_client, pexip_client, vsphere_connection
from accord.vsphere.client import disconnect


def deploy(
    site: Site, *, dry_run: bool = False, out: Callable[[str], None] = print
) -> list[Plan | VspherePlan | BeyondTrustPlan]:
    """Plan (and unless ``dry_run`` apply) the baseline: the Pexip VMs in vCenter first (when the
    site names one), then every Management Node, then the BeyondTrust appliances' certificate
    (when the site names appliances). Every client of the run shares the site's ``run_budget``;
    a system that misbehaves ends it with an `accord.http.ClientError`."""
    plans: list[Plan | VspherePlan | BeyondTrustPlan] = []
    budget = RunBudget.of(site.verification)
    for found in deviations(site):
        fails = "" if found.waiver else " (verification fails it)"
        out(f"site: the site's value, not the guide's: {found.describe()}{fails}")
    if site.systems.vsphere is not None and site.model.vsphere is not None:
        si = vsphere_connection(site, budget)
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
        client = pexip_client(site, deployment, read_only=dry_run, budget=budget)
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
    if site.systems.beyondtrust is not None:
        found = deploy_beyondtrust(site, dry_run=dry_run, out=out, budget=budget)
        if found is not None:
            plans.append(found)
    return plans


def _appliances(site: Site) -> tuple[beyondtrust.Appliances, dict[str, str]]:
    system = site.systems.beyondtrust
    assert system is not None
    appliances = beyondtrust.Appliances(
        system.primary, tuple(system.named("backup")), tuple(system.named("traffic_node"))
    )
    return appliances, {name: a.hostname for name, a in system.appliances.items()}


def _form_defaults(site: Site) -> beyondtrust.FormDefaults:
    values = site.model.beyondtrust
    assert values is not None
    return beyondtrust.FormDefaults(
        country=values.country,
        state=values.state,
        city=values.city,
        organization=values.organization,
        unit=values.unit,
    )


def deploy_beyondtrust(
    site: Site,
    *,
    dry_run: bool = False,
    out: Callable[[str], None] = print,
    budget: RunBudget | None = None,
) -> BeyondTrustPlan | None:
    """The guide's CA-signed certificate on the site's BeyondTrust appliances.

    With a certificate API (``api_url``: the simulator only) it is planned and, unless
    ``dry_run``, applied, the request signed as the Pexip bootstrap signs (``pki.Signer``):

    - ``[pexip.certificates] lab_ca`` (``accord sim``): the lab CA signs at once; its root is
      imported with the certificate;
    - otherwise ``exchange_dir``: the primary's request data is written to
      ``<site_hostname>.csr`` there; while ``<site_hostname>.pem`` (the CA's certificate and
      chain) is absent the run stops with the request pending on the primary, says in one line
      what it waits for and where, and succeeds; a later run completes the pending request
      with that file, and imports the root from ``[beyondtrust] trusted_ca_bundle`` when the
      file lacks it;
    - neither: ``SiteError`` naming both keys (before anything is written).

    The PKCS#12 copy to the other appliances is protected by a fresh random passphrase each
    run. A real appliance has no API: the guide's steps are printed for a person to perform in
    its /appliance web interface (nothing is written) and ``None`` is returned.
    """
    system, values = site.systems.beyondtrust, site.model.beyondtrust
    assert system is not None and values is not None
    appliances, hostnames = _appliances(site)
    defaults = _form_defaults(site)
    if system.api_url is None:
        for line in manual_steps(appliances, values.site_hostname, hostnames, defaults):
            out(f"beyondtrust: {line}")
        return None
    client = beyondtrust_client(site, read_only=dry_run, budget=budget)
    try:
        plan = beyondtrust.plan(client, appliances, values.site_hostname, hostnames, defaults)
        out(plan.render())
        if not dry_run and not plan.empty:
            for line in _apply_beyondtrust(site, client, plan):
                out(f"beyondtrust: {line}")
    finally:
        client.close()
    return plan


def _beyondtrust_roots(site: Site) -> tuple[Path, str]:
    """The site's ``[beyondtrust] trusted_ca_bundle``: its path and PEM, or ``SiteError``."""
    values = site.model.beyondtrust
    assert values is not None
    path = Path(str(site.file(values.trusted_ca_bundle)))
    where = f"{site.path}: beyondtrust.trusted_ca_bundle"
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise SiteError(f"{where}: cannot read {path} ({reason})") from None
    try:
        load_pem_certificates(text)
    except (PkiError, ValueError):
        raise SiteError(f"{where}: {path} holds no PEM certificates") from None
    return path, text


def _apply_beyondtrust(site: Site, client: BeyondTrustClient, plan: BeyondTrustPlan) -> list[str]:
    """Apply a non-empty plan with the site's signer (see ``deploy_beyondtrust``)."""
    signer = pki.Signer.for_site(site)
    if not signer.configured:
        raise SiteError(
            f"{site.path}: pexip.certificates.lab_ca or pexip.certificates.exchange_dir: the "
            "BeyondTrust appliances' certificate request is signed by the lab CA or through "
            "the exchange folder; the site names neither"
        )
    name = plan.site_hostname
    passphrase = Secret(secrets.token_urlsafe(24))
    if signer.lab is not None:
        return beyondtrust.apply(
            client,
            plan,
            lambda csr: signer.sign(name, csr),
            passphrase,
            roots=signer.lab.root_pem,
        )
    bundle, roots = _beyondtrust_roots(site)
    try:
        return beyondtrust.apply(
            client,
            plan,
            lambda csr: signer.sign(name, csr),
            passphrase,
            roots=roots,
            awaiting=signer.awaiting(name),
        )
    except beyondtrust.SigningError as error:
        raise beyondtrust.SigningError(f"{signer.answer_file(name)}: {error}") from None
    except beyondtrust.ChainIncompleteError as error:
        raise beyondtrust.ChainIncompleteError(
            f"{error}; the roots come from beyondtrust.trusted_ca_bundle ({bundle}) or the "
            f"CA's answer ({signer.answer_file(name)})"
        ) from None


def manual_steps(
    appliances: beyondtrust.Appliances,
    site_hostname: str,
    hostnames: dict[str, str],
    defaults: beyondtrust.FormDefaults,
) -> list[str]:
    """The guide's steps for a real site (no certificate API), in order, with the site's values."""
    names = [site_hostname, *dict.fromkeys(hostnames[n] for n in appliances.all)]
    names = list(dict.fromkeys(n.lower() for n in names))
    subject = ", ".join(
        f"{label}={value}"
        for label, value in (
            ("C", defaults.country.upper()),
            ("ST", defaults.state),
            ("L", defaults.city),
            ("O", defaults.organization),
            ("OU", defaults.unit),
            ("CN", site_hostname),
        )
        if value
    )
    primary = f"{appliances.primary} ({hostnames[appliances.primary]})"
    steps = [
        "a real appliance has no certificate API: perform these steps in its /appliance web "
        "interface (Security > Certificates), then verify with pytest features/ --target live",
        f"1. on {primary}: Create a certificate request: key RSA {defaults.key_size}, subject "
        f"{subject}, subject alternative names {', '.join(names)} (the site hostname first)",
        "2. submit its Request Data to your certificate authority",
        "3. Import the signed certificate, then the intermediate and root certificates, until "
        "no warning shows under it",
        "4. select it in the Default column",
    ]
    others = [f"{n} ({hostnames[n]})" for n in appliances.others]
    if others:
        steps.append(
            f"5. Export it from {appliances.primary} with its private key and chain (PKCS#12, "
            f"a strong passphrase), Import it on {', '.join(others)} and make it their default"
        )
    return steps


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
