"""Mutation tests of the BeyondTrust appliances' certificates on the wire (BT-08..BT-11).

Each mutation is made through the simulator's certificate API as an administrator would in an
appliance's /appliance > Security > Certificates page (Default, Delete, Create, Import), on the
deployed lab; then `pytest features/` verifies the lab as a live site and exactly the scenarios
tagged with the declared requirements must fail while every other BeyondTrust scenario passes.
Only the BeyondTrust scenarios run: the Pexip and vSphere simulators are other systems, which
these mutations cannot touch (their own mutation tests run the BeyondTrust scenarios too, on
the deployed appliances). Between mutations the appliances are reset and the deployer run again.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomli_w

from accord.beyondtrust.client import BeyondTrustClient, CertificateForm
from accord.labca import LabCA
from accord.pki import load_pem_certificates, to_pem
from tests.conftest import Lab
from tests.features_run import Run, catalogue_ids, feature_tags, run_features, tags

ROOT = Path(__file__).resolve().parent.parent
FEATURE = ROOT / "features" / "beyondtrust" / "certificates.feature"
WIRE = ("BT-08", "BT-09", "BT-10", "BT-11")
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
]


@pytest.fixture
def appliances_deployed(deployed: Lab) -> Iterator[Lab]:
    """The deployed lab; the appliances are deployed afresh after the test (a mutation is
    state the Pexip snapshot does not hold)."""
    yield deployed
    deployed.redeploy_beyondtrust()


def _run(lab: Lab, reports: Path) -> Run:
    return run_features(
        reports,
        "-m",
        " or ".join(sorted(tags(FEATURE))),
        "--target",
        "live",
        "--site",
        str(lab.site_file),
    )


def test_every_wire_requirement_of_the_guide_has_a_scenario_and_a_mutation():
    assert set(WIRE) == tags(FEATURE)
    assert set(WIRE) <= feature_tags() and set(WIRE) <= catalogue_ids()
    mutated = {r for requirements, _, _ in MUTATIONS for r in requirements.split()}
    assert mutated == set(WIRE)


def test_the_deployed_appliances_pass_every_scenario(appliances_deployed, tmp_path):
    """The canary: without a mutation, every BeyondTrust scenario passes on the wire."""
    run = _run(appliances_deployed, tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    statuses = {s.name: s.status for s in run.scenarios}
    assert len(statuses) == 4 and set(statuses.values()) == {"passed"}, statuses


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
    others = {s.name for s in run.scenarios} - tagged
    assert all(s.status == "passed" for s in run.scenarios if s.name in others), run.output[-3000:]
    assert run.returncode == 1


def test_a_site_without_appliances_reports_them_not_run(lab, tmp_path):
    """Skipped with the reason, never passed."""
    document = tomllib.loads(lab.site_file.read_text())
    del document["systems"]["beyondtrust"], document["beyondtrust"]
    path = lab.site_file.parent / "no-beyondtrust.toml"
    path.write_text(tomli_w.dumps(document))
    run = run_features(
        tmp_path, "-m", " or ".join(sorted(tags(FEATURE))), "--target", "live", "--site", str(path)
    )
    assert run.returncode == 0, run.output[-3000:]
    assert len(run.scenarios) == 4 and {s.status for s in run.scenarios} == {"skipped"}
    junit = (run.reports / "junit.xml").read_text()
    assert "not run: the site names no BeyondTrust appliances" in junit
