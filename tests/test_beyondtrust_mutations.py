"""Mutation tests of the BeyondTrust guide's requirements (BT-01..BT-13).

Wire requirements (BT-08..BT-11): each mutation is made through the simulator's certificate API
as an administrator would in an appliance's /appliance > Security > Certificates page (Default,
Delete, Create, Import), on the deployed lab. Action requirements (BT-01..BT-07, BT-12, BT-13):
the simulated appliances misbehave on purpose (`/_sim/faults`), and the scenario performing the
action on the scratch appliance must notice. BT-13's client software update is attested: its
attestation is removed or expired.

Then `pytest features/` verifies the lab as a live site: the scenarios tagged with the declared
requirements must fail (every one for a wire mutation, at least one for a fault) while every
other BeyondTrust scenario passes (or is attested). Only the BeyondTrust scenarios run: the Pexip
and vSphere simulators are other systems, which these mutations cannot touch (their own mutation
tests run the BeyondTrust scenarios too, on the deployed appliances). Between mutations the
appliances are reset and the deployer run again, and the faults cleared.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomli_w

from accord.beyondtrust.client import BeyondTrustClient, CertificateForm
from accord.labca import LabCA
from accord.pki import load_pem_certificates, to_pem, to_pkcs12
from accord.secrets import Secret
from tests.conftest import Lab
from tests.features_run import (
    Run,
    attested_scenarios,
    catalogue_ids,
    feature_tags,
    run_features,
    site_document_with_attestation,
    tags,
)

ROOT = Path(__file__).resolve().parent.parent
FEATURE = ROOT / "features" / "beyondtrust" / "certificates.feature"
ACT_FEATURE = ROOT / "features" / "beyondtrust" / "certificate_actions.feature"
WIRE = ("BT-08", "BT-09", "BT-10", "BT-11")
ALL = {f"BT-{n:02d}" for n in range(1, 14)}
Mutation = Callable[[Lab], None]


def _names(lab: Lab) -> tuple[str, str, str, str]:
    """(site hostname, primary, backup, traffic node) of the lab's BeyondTrust site."""
    system, values = lab.site.systems.beyondtrust, lab.site.model.beyondtrust
    assert system is not None and values is not None
    return (
        values.site_hostname,
        system.primary,
        system.named("backup")[0],
        system.named("traffic_node")[0],
    )


def _hostname(lab: Lab, name: str) -> str:
    system = lab.site.systems.beyondtrust
    assert system is not None
    return system.appliances[name].hostname


def _form(friendly_name: str, names: list[str]) -> CertificateForm:
    return CertificateForm(
        friendly_name=friendly_name,
        key_size=2048,
        country="US",
        common_name=names[0],
        alternative_names=tuple(names),
        organization="Accord Lab",
    )


def _lab_ca(lab: Lab) -> LabCA:
    folder = lab.site.file(lab.site.pexip.certificates.lab_ca)
    assert folder is not None
    return LabCA.load(folder)


def _install_signed(lab: Lab, appliance: str, names: list[str]) -> None:
    """A certificate request on ``appliance`` for ``names``, signed by the lab CA, imported
    with its intermediate and root, and made the default."""
    client: BeyondTrustClient = lab.beyondtrust
    ca = _lab_ca(lab)
    request = client.create_request(appliance, _form(f"another {names[0]}", names))
    certs = load_pem_certificates(ca.sign(request.request_data))
    certs += [c for c in load_pem_certificates(ca.root_pem) if c not in certs]
    added = [
        client.import_file(appliance, to_pem(cert).encode("ascii"), filename=f"{index}.crt")
        for index, cert in enumerate(certs)
    ]
    client.set_default(appliance, added[0].certificates[0].id)


def _default_to_factory(which: str) -> Mutation:
    """The factory "BeyondTrust Appliance" certificate selected in the Default column."""

    def mutate(lab: Lab) -> None:
        name = dict(zip(("primary", "backup", "traffic_node"), _names(lab)[1:], strict=True))[which]
        factory = next(c for c in lab.beyondtrust.certificates(name) if c.factory)
        lab.beyondtrust.set_default(name, factory.id)

    return mutate


def _intermediate_removed(lab: Lab) -> None:
    """The CA's intermediate certificate deleted from the primary's store."""
    primary = _names(lab)[1]
    rows = lab.beyondtrust.certificates(primary)
    intermediates = [c for c in rows if c.kind == "intermediate"]
    assert intermediates, [(c.friendly_name, c.kind) for c in rows]
    for row in intermediates:
        lab.beyondtrust.delete(primary, row.id)


def _self_signed_on_primary(lab: Lab) -> None:
    """A self-signed certificate for the site hostname created on the primary, made the
    default, and the CA-signed one deleted: the primary serves the self-signed one."""
    site_hostname, primary, _, _ = _names(lab)
    client = lab.beyondtrust
    deployed = client.default(primary)
    created = client.create_self_signed(
        primary, _form("self-signed", [site_hostname, _hostname(lab, primary)])
    )
    client.set_default(primary, created.id)
    client.delete(primary, deployed.id)


def _backup_other_certificate(lab: Lab) -> None:
    """The backup given another lab-CA certificate for the same names, as its default."""
    site_hostname, primary, backup, node = _names(lab)
    names = [site_hostname, *(_hostname(lab, n) for n in (primary, backup, node))]
    _install_signed(lab, backup, names)


def _traffic_node_without_its_hostname(lab: Lab) -> None:
    """A traffic node's default: a lab-CA certificate for the site hostname only."""
    site_hostname, _, _, node = _names(lab)
    _install_signed(lab, node, [site_hostname])


def _expired_everywhere(lab: Lab) -> None:
    """A lab-CA certificate for every name, expired yesterday, imported with its key and chain
    on every appliance, made the default and the deployed one deleted (SNI auto-selection
    prefers the latest expiry while both are held): identical and covering everything, but
    expired."""
    site_hostname, primary, backup, node = _names(lab)
    names = [site_hostname, *(_hostname(lab, n) for n in (primary, backup, node))]
    now = dt.datetime.now(dt.UTC)
    issuer = _lab_ca(lab).issuer
    leaf = issuer.issue_cert(
        *names, not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1)
    )
    passphrase = Secret("Accord-mutation-passphrase-3")
    data = to_pkcs12(
        leaf.key, leaf.cert, [*leaf.chain[1:], leaf.root], passphrase=passphrase.reveal()
    )
    for name in (primary, backup, node):
        deployed = lab.beyondtrust.default(name)
        result = lab.beyondtrust.import_file(name, data, passphrase, filename="expired.p12")
        held = next(c for c in result.certificates if c.certificate == leaf.cert)
        lab.beyondtrust.set_default(name, held.id)
        lab.beyondtrust.delete(name, deployed.id)


MUTATIONS: list[tuple[str, str, Mutation]] = [
    (
        "BT-08",
        "the primary's default moved back to the factory certificate",
        _default_to_factory("primary"),
    ),
    (
        "BT-08",
        "the traffic node's default left on the factory certificate",
        _default_to_factory("traffic_node"),
    ),
    ("BT-09", "the intermediate removed from the primary's store", _intermediate_removed),
    (
        # The backup then serves another certificate than the primary: failover fails too.
        "BT-09 BT-10",
        "the primary's certificate replaced by a self-signed one for the site hostname",
        _self_signed_on_primary,
    ),
    (
        "BT-10",
        "the backup given another lab-CA certificate for the same names as its default",
        _backup_other_certificate,
    ),
    (
        "BT-11",
        "a traffic node's default not covering its own hostname",
        _traffic_node_without_its_hostname,
    ),
    ("BT-09", "an expired certificate the default on every appliance", _expired_everywhere),
]

# Faults of the simulated appliances (`simulator.beyondtrust.faults`): the appliance misbehaves
# and the scenario of the requirement performing the action must notice.
FAULTS: list[tuple[str, str]] = [
    ("BT-01", "bt01_factory_certificate_deletable"),
    ("BT-02", "bt02_fqdn_common_name_not_first_san_accepted"),
    ("BT-03", "bt03_request_data_holds_key"),
    # The replacement (BT-13) installs its new certificate through a request too.
    ("BT-04 BT-13", "bt04_signed_certificate_not_linked"),
    ("BT-05", "bt05_missing_chain_not_warned"),
    ("BT-06", "bt06_pkcs12_passphrase_ignored"),
    ("BT-07", "bt07_support_bundle_holds_key"),
    ("BT-12", "bt12_same_subject_import_replaces"),
    ("BT-13", "bt13_unrelated_root_refused"),
]
ATTESTED = ("BT-13",)


@pytest.fixture
def appliances_deployed(deployed: Lab) -> Iterator[Lab]:
    """The deployed lab; the appliances are deployed afresh after the test (a mutation is
    state the Pexip snapshot does not hold) and their faults cleared."""
    yield deployed
    deployed.beyondtrust_control.set_faults([])
    deployed.redeploy_beyondtrust()


def _run(lab: Lab, reports: Path, site_file: Path | None = None) -> Run:
    return run_features(
        reports,
        "-m",
        " or ".join(sorted(tags(FEATURE) | tags(ACT_FEATURE))),
        "--target",
        "live",
        "--site",
        str(site_file or lab.site_file),
        evidence="minimal",
    )


def _only_attested_skipped(run: Run, failed: set[str] | frozenset[str] = frozenset()) -> None:
    """Every scenario not in ``failed`` passed, except the attested ones (skipped)."""
    for scenario in run.scenarios:
        if scenario.name in failed:
            continue
        wanted = "skipped" if scenario.name in attested_scenarios() else "passed"
        assert scenario.status == wanted, (scenario.name, scenario.status, run.output[-3000:])


def test_every_requirement_of_the_guide_has_a_scenario_and_a_mutation():
    assert set(WIRE) == tags(FEATURE) - set(ATTESTED)
    assert ALL == tags(FEATURE) | tags(ACT_FEATURE)
    assert ALL <= feature_tags() and ALL <= catalogue_ids()
    mutated = {r for requirements, _, _ in MUTATIONS for r in requirements.split()}
    assert mutated == set(WIRE)
    assert {r for requirements, _ in FAULTS for r in requirements.split()} | set(WIRE) == ALL


def test_the_deployed_appliances_pass_every_scenario(appliances_deployed, tmp_path):
    """The canary: without a mutation, every BeyondTrust scenario passes (BT-13's client
    software update is attested: skipped, never passed)."""
    run = _run(appliances_deployed, tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    assert len(run.scenarios) > 20, run.output[-3000:]
    _only_attested_skipped(run)


@pytest.mark.parametrize(
    ("requirements", "mutation"),
    [(r, m) for r, _, m in MUTATIONS],
    ids=[f"{r}: {what}" for r, what, _ in MUTATIONS],
)
def test_a_violation_fails_exactly_its_scenarios(
    appliances_deployed, tmp_path, requirements, mutation
):
    mutation(appliances_deployed)
    run = _run(appliances_deployed, tmp_path)
    assert run.scenarios, run.output[-3000:]
    for requirement in requirements.split():
        assert run.tagged(requirement) & run.failed(), f"@{requirement} not caught"
    tagged = set().union(*(run.tagged(r) for r in requirements.split()))
    assert run.failed() <= tagged, run.output[-3000:]
    _only_attested_skipped(run, tagged)
    assert run.returncode == 1


@pytest.mark.parametrize(("requirements", "fault"), FAULTS, ids=[f"{r}: {f}" for r, f in FAULTS])
def test_a_misbehaving_appliance_fails_its_action_scenario(
    appliances_deployed, tmp_path, requirements, fault
):
    """The fault breaks one behaviour of the guide on every simulated appliance; only the
    scratch appliance is acted on, so only scenarios of that requirement may fail."""
    appliances_deployed.beyondtrust_control.set_faults([fault])
    run = _run(appliances_deployed, tmp_path)
    assert run.failed(), f"no scenario noticed {fault}: {run.output[-3000:]}"
    tagged = set().union(*(run.tagged(r) for r in requirements.split()))
    assert run.failed() <= tagged, run.output[-3000:]
    _only_attested_skipped(run, run.failed())


@pytest.mark.parametrize("expired", [False, True], ids=["missing", "expired"])
@pytest.mark.parametrize("requirement", ATTESTED)
def test_an_attestation_missing_or_expired_fails_its_scenario(
    appliances_deployed, tmp_path, requirement, expired
):
    document = site_document_with_attestation(
        appliances_deployed.site_file, requirement, expired=expired
    )
    path = appliances_deployed.site_file.parent / f"no-{requirement}.toml"
    path.write_text(tomli_w.dumps(document))
    run = _run(appliances_deployed, tmp_path, path)
    attested = run.tagged(requirement) & attested_scenarios()
    assert attested and run.failed() == attested, run.output[-3000:]
    _only_attested_skipped(run, attested)


def test_a_site_without_appliances_reports_them_not_run(lab, tmp_path):
    """Skipped with the reason, never passed."""
    document = tomllib.loads(lab.site_file.read_text())
    del document["systems"]["beyondtrust"], document["beyondtrust"]
    path = lab.site_file.parent / "no-beyondtrust.toml"
    path.write_text(tomli_w.dumps(document))
    run = _run(lab, tmp_path, path)
    assert run.returncode == 0, run.output[-3000:]
    assert len(run.scenarios) > 20 and {s.status for s in run.scenarios} == {"skipped"}
    junit = (run.reports / "junit.xml").read_text()
    assert "not run: the site names no BeyondTrust appliances" in junit
    assert "no scratch appliance ([systems.beyondtrust.scratch]" in junit
