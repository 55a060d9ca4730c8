"""The OSCAL writer: read back and validated by compliance-trestle, evidence files hashed as
written, TEST/EXAMINE methods, a finding per requirement, NIST controls in OSCAL form, stable
UUIDs, no secret; and a violation failed in HDF and OSCAL alike."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
import trestle.core.validator_factory as validators
from trestle.oscal.assessment_results import AssessmentResults

from accord.evidence.hdf import HEIMDALL_STATUS, write_hdf
from accord.evidence.oscal import SATISFIED, control_id, write_oscal
from tests.evidence.sample_runs import (
    EXPECTED,
    SCENARIOS,
    SECRET_CANARY,
    VISIBLE_CANARY,
    sample_run,
)
from tests.evidence.test_hdf import heimdall_status


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list[Path], AssessmentResults]:
    folder = tmp_path_factory.mktemp("oscal")
    paths = write_oscal(sample_run(), folder)
    model = AssessmentResults.oscal_read(paths[0])
    assert model is not None
    return folder, paths, model


def props(item) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in item.props or []:
        found.setdefault(p.name, []).append(p.value)
    return found


def test_trestle_reads_and_validates_it(written):
    folder, paths, model = written
    assert paths[0] == folder / "oscal-assessment-results.json"
    raw = json.loads(paths[0].read_text(encoding="utf-8"))
    assert list(raw) == ["assessment-results"]
    # pydantic validation of the whole document, and trestle's own validators
    again = AssessmentResults.model_validate(raw["assessment-results"])
    assert again.oscal_serialize_json_bytes(pretty=True) == paths[0].read_bytes()
    every = [
        v for v in validators.validator_factory.get_all() if type(v).__name__ != "AllValidator"
    ]
    assert len(every) >= 4  # catalog, duplicates, refs, links, rule parameters
    for validator in every:
        assert validator.model_is_valid(model, True, None), type(validator).__name__


def test_every_uuid_is_unique_and_version_5(written):
    text = written[1][0].read_text(encoding="utf-8")
    values = [v for k, v in _walk(json.loads(text)) if k == "uuid"]
    assert len(values) == len(set(values))
    assert all(uuid.UUID(v).version == 5 for v in values)


def test_relevant_evidence_points_at_hashed_files(written):
    folder, paths, model = written
    (result,) = model.results
    resources = {r.uuid: r for r in model.back_matter.resources}
    scenario_observations = [o for o in result.observations if o.relevant_evidence]
    assert len(scenario_observations) == len(SCENARIOS)
    files = set()
    for obs in scenario_observations:
        (evidence,) = obs.relevant_evidence
        assert evidence.href.startswith("#")
        (rlink,) = resources[evidence.href[1:]].rlinks
        assert rlink.href.startswith("evidence/") and rlink.media_type == "application/json"
        (digest,) = rlink.hashes
        data = (folder / rlink.href).read_bytes()
        assert str(getattr(digest.algorithm, "value", digest.algorithm)) == "SHA-256"
        assert digest.value == hashlib.sha256(data).hexdigest()
        content = json.loads(data)
        assert content["scenario"] == obs.title
        assert content["observations"][0]["value"] == {
            "request": {"host": "mgr.lab.example", "password": "***"},
            "value": VISIBLE_CANARY,
        }
        files.add(folder / rlink.href)
    assert paths[1].name == "oscal-assessment-plan.json"
    assert files == set(paths[2:])
    assert set(resources) == {o.relevant_evidence[0].href[1:] for o in scenario_observations}


def test_methods_test_or_examine(written):
    (result,) = written[2].results
    methods = {
        o.title: [str(getattr(m, "value", m)) for m in o.methods] for o in result.observations
    }
    assert methods["The BIOS password"] == ["EXAMINE"]  # the scenario an attestation settled
    assert methods["Attestation AT-1 for BIOS-03"] == ["EXAMINE"]
    assert methods["A closed port drops the packet"] == ["TEST"]
    assert methods["Incident reporting is off"] == ["TEST"]


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_a_finding_per_requirement(written, rid):
    (result,) = written[2].results
    (finding,) = [f for f in result.findings if f.target.target_id == rid]
    status = EXPECTED[rid]
    state = finding.target.status.state
    assert str(getattr(state, "value", state)) == SATISFIED[status][0]
    assert props(finding)["accord-status"] == [status]
    assert finding.remarks.startswith(status)
    observed = {o.uuid: o for o in result.observations}
    titles = {observed[r.observation_uuid].title for r in finding.related_observations or []}
    expected = {name for name, (rids, _, _) in SCENARIOS.items() if rid in rids}
    if rid == "BIOS-03":
        expected.add("Attestation AT-1 for BIOS-03")
    assert titles == expected


def test_waiver_and_attestation_in_remarks(written):
    (result,) = written[2].results
    by_id = {f.target.target_id: f for f in result.findings}
    assert "WaiverRecord W-1" in by_id["BT-02"].remarks
    assert by_id["BT-02"].target.status.reason == "other"
    assert "WaiverRecord W-2" in by_id["BT-03"].remarks
    assert by_id["BT-03"].target.status.reason == "fail"
    assert "Attestation AT-1 by P. Operator" in by_id["BIOS-03"].remarks
    parties = {p.name for p in written[2].metadata.parties}
    assert parties == {"P. Operator"}


def test_reviewed_controls_in_oscal_form(written):
    (result,) = written[2].results
    (selection,) = result.reviewed_controls.control_selections
    chosen = {c.control_id: c.statement_ids for c in selection.include_controls}
    assert chosen["ia-2.12"] is None
    assert chosen["ia-3.1"] is None
    assert chosen["ac-2"] is None
    assert chosen["cm-6"] is None  # CM-6 whole (IPV6-01) as well as CM-6 b (SNMP-01)
    (snmp,) = [f for f in result.findings if f.target.target_id == "SNMP-01"]
    assert "cm-6 part b" in snmp.remarks
    assert props(snmp)["control-id"] == ["ia-3.1", "cm-6"]


@pytest.mark.parametrize(
    ("nist", "oscal"),
    [
        ("IA-2(12)", ("ia-2.12", None)),
        ("IA-2 (12)", ("ia-2.12", None)),
        ("AC-2", ("ac-2", None)),
        ("CM-6 b", ("cm-6", "b")),
        ("SC-45(1)", ("sc-45.1", None)),
    ],
)
def test_control_id(nist, oscal):
    assert control_id(nist) == oscal


def test_rewrite_is_byte_identical(written, tmp_path):
    write_oscal(sample_run(), tmp_path)
    for path in written[1]:
        assert (tmp_path / path.relative_to(written[0])).read_bytes() == path.read_bytes()


def test_no_secret_anywhere(tmp_path):
    write_oscal(sample_run(), tmp_path)
    write_hdf(sample_run(), tmp_path)
    texts = [p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()]
    assert texts and not any(SECRET_CANARY in t for t in texts)
    assert any(VISIBLE_CANARY in t for t in texts)  # observations are written, redacted


def test_a_violation_is_failed_in_every_format(tmp_path):
    write_hdf(sample_run(), tmp_path)
    write_oscal(sample_run(), tmp_path)
    hdf = json.loads((tmp_path / "hdf.json").read_text(encoding="utf-8"))
    hdf_status = {c["id"]: heimdall_status(c) for p in hdf["profiles"] for c in p["controls"]}
    model = AssessmentResults.oscal_read(tmp_path / "oscal-assessment-results.json")
    oscal_state = {
        f.target.target_id: str(getattr(f.target.status.state, "value", f.target.status.state))
        for f in model.results[0].findings
    }
    for rid, status in EXPECTED.items():
        assert hdf_status[rid] == HEIMDALL_STATUS[status], rid
        assert oscal_state[rid] == SATISFIED[status][0], rid
    violations = {rid for rid, s in EXPECTED.items() if s == "failed"}
    assert violations == {"SECW-04", "BT-03"}
    assert {r for r, s in hdf_status.items() if s == "Failed"} == violations
    failed_findings = {
        f.target.target_id
        for f in model.results[0].findings
        if f.target.status.reason == "fail" and "_obj" not in f.target.target_id
    }
    assert failed_findings == violations


def _walk(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def test_the_shipped_catalogue_through_both_writers(tmp_path):
    """Every requirement of the catalogue Accord ships (its guides, STIG items and NIST controls
    as written there), each status in turn: HDF valid against the schema, OSCAL read back."""
    import jsonschema

    from accord.evidence.model import PRECEDENCE, RequirementResult, ScenarioResult
    from accord.requirements import load_catalogue
    from tests.evidence.test_hdf import SCHEMA

    run = sample_run()
    run.requirements, run.scenarios = [], []
    for n, requirement in enumerate(load_catalogue().values()):
        status = PRECEDENCE[n % len(PRECEDENCE)]
        name = f"scenario for {requirement.id}"
        run.scenarios.append(
            ScenarioResult(
                feature="features/catalogue.feature",
                name=name,
                requirements=(requirement.id,),
                status=status,
                reason=None if status == "passed" else f"{status}: why",
                steps=(),
                observations=(),
                started=run.started,
                duration=0.5,
            )
        )
        run.requirements.append(
            RequirementResult(requirement, status, None if status == "passed" else "why", (name,))
        )
    write_hdf(run, tmp_path)
    hdf = json.loads((tmp_path / "hdf.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(hdf)
    for control in (c for p in hdf["profiles"] for c in p["controls"]):
        assert heimdall_status(control) == HEIMDALL_STATUS[control["tags"]["accord_status"]]
    (profile,) = hdf["profiles"]
    assert len(profile["controls"]) == len(run.requirements)
    assert len({g for c in profile["controls"] for g in c["tags"]["guides"]}) >= 3
    paths = write_oscal(run, tmp_path)
    model = AssessmentResults.oscal_read(paths[0])
    findings = [f for f in model.results[0].findings if "_obj" not in f.target.target_id]
    assert len(findings) == len(run.requirements)
    assert len(paths) == 2 + len(run.scenarios)  # results, plan, an evidence file each
