"""The OSCAL assessment plan the results import: read back and validated by compliance-trestle
(both files declaring the OSCAL version trestle's models implement), the requirements as tasks,
the run's scope as subjects; and the results' findings on NIST SP 800-53 control objectives."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import trestle.core.validator_factory as validators
from trestle.oscal import OSCAL_VERSION, OSCAL_VERSION_REGEX
from trestle.oscal.assessment_plan import AssessmentPlan
from trestle.oscal.assessment_results import AssessmentResults

from accord.evidence.oscal import write_oscal
from accord.evidence.oscal_plan import ACTIVITIES
from tests.evidence import sample
from tests.evidence.sample_runs import EXPECTED, sample_run


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, AssessmentPlan, AssessmentResults]:
    folder = tmp_path_factory.mktemp("plan")
    results, plan, *_ = write_oscal(sample.run(), folder)
    assert plan == folder / "oscal-assessment-plan.json"
    read_plan = AssessmentPlan.oscal_read(plan)
    read_results = AssessmentResults.oscal_read(results)
    assert read_plan is not None and read_results is not None
    return folder, read_plan, read_results


def props(item) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in item.props or []:
        found.setdefault(p.name, []).append(p.value)
    return found


def test_trestle_reads_and_validates_the_plan_and_the_results(written):
    folder, plan, results = written
    for model in (plan, results):
        for validator in validators.validator_factory.get_all():
            if type(validator).__name__ != "AllValidator":
                assert validator.model_is_valid(model, True, None), type(validator).__name__
    raw = json.loads((folder / "oscal-assessment-plan.json").read_text())
    assert list(raw) == ["assessment-plan"]
    again = AssessmentPlan.model_validate(raw["assessment-plan"])
    assert (
        again.oscal_serialize_json_bytes(pretty=True)
        == (folder / "oscal-assessment-plan.json").read_bytes()
    )


def test_both_declare_the_version_trestle_s_models_implement(written):
    folder, _, _ = written
    for name in ("oscal-assessment-plan.json", "oscal-assessment-results.json"):
        (document,) = json.loads((folder / name).read_text()).values()
        declared = document["metadata"]["oscal-version"]
        assert declared == OSCAL_VERSION and re.match(OSCAL_VERSION_REGEX, declared), name


def test_the_results_import_the_plan_beside_them(written):
    folder, plan, results = written
    assert results.import_ap.href == "oscal-assessment-plan.json"
    assert (folder / results.import_ap.href).is_file()
    assert plan.uuid != results.uuid


def test_a_task_per_requirement_in_scope(written):
    _, plan, _ = written
    run = sample.run()
    tasks = {props(t)["requirement"][0]: t for t in plan.tasks or []}
    assert sorted(tasks) == sorted(r.requirement.id for r in run.requirements)
    snmp = tasks["SNMP-01"]
    assert snmp.title.startswith("SNMP-01: ")
    assert "Sees: what SNMP-01's scenarios read." in (snmp.description or "")
    assert "Cannot see: what SNMP-01's scenarios cannot reach." in (snmp.description or "")
    activities = {a.uuid: props(a)["proof"][0] for a in plan.local_definitions.activities or []}
    assert set(activities.values()) <= set(ACTIVITIES)
    for task in tasks.values():
        for associated in task.associated_activities or []:
            assert activities[associated.activity_uuid] in task.props[1].value


def test_the_systems_in_scope_are_the_subjects(written):
    _, plan, _ = written
    items = plan.local_definitions.inventory_items or []
    assert len(items) == len(sample.SCOPE)
    names = {props(i)["name"][0]: props(i) for i in items}
    for item in sample.SCOPE:
        assert names[item.name]["kind"] == [item.kind]
        assert names[item.name].get("address", [""]) == [item.address]
        assert names[item.name].get("version", [""]) == [item.version]
    (subject,) = plan.assessment_subjects or []
    chosen = {s.subject_uuid for s in subject.include_subjects}
    assert chosen == {i.uuid for i in items}
    assert plan.import_ssp.href.startswith("#")  # no SSP: the site file, by its SHA-256


def test_a_simulated_plan_says_it_is_no_evidence(written):
    _, plan, results = written
    assert "Not evidence about a real system" in (plan.metadata.remarks or "")
    assert "Not evidence about a real system" in (results.results[0].description or "")


def test_findings_target_the_nist_control_objectives_too(tmp_path):
    """SNMP-01 (CM-6 b, IA-3(1)) passed; SECW-04 (SC-7, CM-7) failed; MGMT-01 (CM-7, SC-7) not
    run: each control's objective finding is satisfied only when all its requirements are."""
    results = AssessmentResults.oscal_read(write_oscal(sample_run(), tmp_path)[0])
    findings = {f.target.target_id: f for f in results.results[0].findings}
    assert set(EXPECTED) < set(findings)
    objectives = {k: v for k, v in findings.items() if k not in EXPECTED}
    assert {"cm-6_obj.b", "ia-3.1_obj", "sc-7_obj", "cm-7_obj", "ia-2.12_obj"} <= set(objectives)
    state = {k: str(getattr(f.target.status.state, "value", f.target.status.state))
             for k, f in objectives.items()}  # fmt: skip
    assert state["cm-6_obj.b"] == "satisfied" and state["ia-3.1_obj"] == "satisfied"
    assert state["sc-7_obj"] == "not-satisfied" and state["cm-7_obj"] == "not-satisfied"
    sc7 = objectives["sc-7_obj"]
    assert sorted(props(sc7)["requirement"]) == ["MGMT-01", "SECW-04"]
    assert str(getattr(sc7.target.status.reason, "value", sc7.target.status.reason)) == "fail"
    assert {str(getattr(f.target.type, "value", f.target.type)) for f in objectives.values()} == {
        "objective-id"
    }
    assert sc7.related_observations  # the requirements' observations
