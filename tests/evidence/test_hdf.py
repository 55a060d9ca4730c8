"""The HDF writer: valid against the exec-json schema, Heimdall's status is the requirement's,
one profile with every requirement once, the tags SAF's checklist reads as strings, CCIs, the
impact rule, waivers and attestations in SAF's shape, no secret. (SAF itself reads a real run's
file in test_saf.)"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from accord.evidence.hdf import (
    ATTESTATION_CODE_DESC,
    HEIMDALL_STATUS,
    IMPACT_HIGH,
    IMPACT_MEDIUM,
    IMPACT_NONE,
    PROFILE,
    hdf_results,
    nist_tag,
    write_hdf,
)
from accord.evidence.model import ScenarioResult
from tests.evidence.sample_runs import BT, EXPECTED, SECRET_CANARY, SM, T0, TLS, sample_run

SCHEMA = Path(__file__).parent / "schemas" / "hdf-exec-json.schema.json"


def heimdall_status(control: dict) -> str:
    """How Heimdall (inspecjs ExecControl.compute_status) reads a control's status."""
    statuses = [
        "error" if r.get("backtrace") else (r.get("status") or "no_status")
        for r in control["results"]
    ]
    waived = bool((control.get("waiver_data") or {}).get("skipped_due_to_waiver"))
    if "error" in statuses:
        return "Profile Error"
    if waived or control["impact"] == 0:
        return "Not Applicable"
    if not statuses:
        return "Profile Error"
    if "failed" in statuses:
        return "Failed"
    if "passed" in statuses:
        return "Passed"
    if "skipped" in statuses:
        return "Not Reviewed"
    return "Profile Error"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("hdf")
    paths = write_hdf(sample_run(), folder)
    assert paths == [folder / "hdf.json"]
    return folder, json.loads(paths[0].read_text(encoding="utf-8"))


def controls(hdf: dict) -> dict[str, dict]:
    return {c["id"]: c for p in hdf["profiles"] for c in p["controls"]}


def test_valid_against_the_exec_json_schema(written):
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(written[1])


def test_the_schema_rejects_what_heimdall_would_not_load(written):
    """The schema is no rubber stamp: a wrong result status or a missing control field fails."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    bad = json.loads(json.dumps(written[1]))
    bad["profiles"][0]["controls"][0]["results"][0]["status"] = "waived"
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(written[1]))
    del bad["profiles"][0]["controls"][0]["impact"]
    assert not validator.is_valid(bad)


def test_one_profile_with_every_requirement_once(written):
    """SAF reads a file's first profile only, and inspecjs takes a control ID seen twice for an
    overlay: every requirement is one control of the one profile, the guides are tags."""
    hdf = written[1]
    (profile,) = hdf["profiles"]
    assert profile["name"] == PROFILE
    ids = [c["id"] for c in profile["controls"]]
    assert sorted(ids) == sorted(EXPECTED) and len(ids) == len(set(ids))
    assert SM in profile["title"] and BT in profile["title"]
    c = controls(hdf)
    assert c["TLS-01"]["tags"]["guides"] == [SM, TLS]  # its section serves both Pexip guides
    assert c["BT-01"]["tags"]["guides"] == [BT]
    assert c["BT-01"]["tags"]["section"] == "BeyondTrust appliance"
    grouped = sorted(i for g in profile["groups"] for i in g["controls"])
    assert grouped == sorted(EXPECTED)


def test_tags_saf_reads_as_strings(written):
    """SAF's checklist writer takes stig_id, gid and rid as strings ("Argument [] must be a
    string" otherwise): the first STIG item there, every one in ``stig``."""
    for control in written[1]["profiles"][0]["controls"]:
        tags = control["tags"]
        assert tags["rid"] == control["id"]
        for key in ("stig_id", "gid", "rid", "gtitle", "severity"):
            assert key not in tags or isinstance(tags[key], str), (control["id"], key)
        assert tags["cci"] and all(c.startswith("CCI-") for c in tags["cci"]), control["id"]
    c = controls(written[1])
    assert (c["SNMP-01"]["tags"]["stig_id"], c["SNMP-01"]["tags"]["gid"]) == (
        "VCSA-80-000253",
        "V-258931",
    )
    assert "stig_id" not in c["MGMT-01"]["tags"] and "gid" not in c["MGMT-01"]["tags"]


def test_cci_tags_come_from_the_nist_controls(written):
    c = controls(written[1])
    assert c["SNMP-01"]["tags"]["nist"] == ["IA-3 (1)", "CM-6 b"]
    assert "CCI-000366" in c["SNMP-01"]["tags"]["cci"]  # CM-6 b, as DISA's STIGs tag it
    assert c["SECW-04"]["tags"]["cci"] == sorted(c["SECW-04"]["tags"]["cci"])


def test_checklist_asset_metadata(written):
    metadata = written[1]["passthrough"]["metadata"]
    assert metadata["hostname"] == "lab"
    assert metadata["profiles"] == [{"name": PROFILE, "title": written[1]["profiles"][0]["title"]}]
    assert "simulators" in metadata["targetcomment"]


def test_a_simulated_run_says_it_is_no_evidence_on_every_control(written):
    for control in written[1]["profiles"][0]["controls"]:
        (caveat,) = [d["data"] for d in control["descriptions"] if d["label"] == "caveat"]
        assert caveat.startswith("Not evidence about a real system"), control["id"]


def test_checked_and_attested_in_the_shape_saf_writes():
    """A requirement with a machine check and an attestation: SAF's ``attest apply`` only
    attests a control whose first result is skipped, then adds its own result last."""
    run = sample_run()
    check = ScenarioResult(
        feature="features/pexip/x.feature",
        name="The BIOS boot order",
        requirements=("BIOS-03",),
        status="passed",
        reason=None,
        steps=(),
        observations=(),
        started=T0,
        duration=0.5,
    )
    run.scenarios.insert(0, check)
    run.requirements = [
        dataclasses.replace(r, scenarios=("The BIOS boot order", *r.scenarios))
        if r.requirement.id == "BIOS-03"
        else r
        for r in run.requirements
    ]
    (control,) = [c for c in hdf_results(run)["profiles"][0]["controls"] if c["id"] == "BIOS-03"]
    statuses = [(r["status"], r["code_desc"]) for r in control["results"]]
    assert statuses == [
        ("skipped", "The BIOS password"),
        ("passed", "The BIOS boot order"),
        ("passed", ATTESTATION_CODE_DESC),
    ]
    assert control["results"][-1]["message"].startswith(
        "Attestation:\nStatus: passed\nExplanation: The BIOS supervisor password is set"
    )
    assert heimdall_status(control) == "Passed"


@pytest.mark.parametrize("rid", sorted(EXPECTED))
def test_heimdall_shows_the_requirement_status(written, rid):
    control = controls(written[1])[rid]
    assert heimdall_status(control) == HEIMDALL_STATUS[EXPECTED[rid]]
    assert control["tags"]["accord_status"] == EXPECTED[rid]


def test_results_are_the_scenarios(written):
    c = controls(written[1])
    failed = c["SECW-04"]["results"]
    assert [(r["status"], r["code_desc"], r["message"]) for r in failed] == [
        ("failed", "A closed port drops the packet", "the connection was reset")
    ]
    assert failed[0]["start_time"].startswith("2026-03-02T09:00")
    assert failed[0]["run_time"] == 1.25
    # not run: the passed scenario cannot make Heimdall say Passed
    not_run = {r["code_desc"]: r for r in c["MGMT-01"]["results"]}
    assert not_run["Incident reporting on every node"]["skip_message"] == (
        "not run: no node reachable"
    )
    assert not_run["Incident reporting is off"]["status"] == "skipped"
    assert not_run["Incident reporting is off"]["skip_message"].startswith("passed, but not run")
    # no scenario at all: one skipped result says so
    (only,) = c["GLB-05"]["results"]
    assert only["status"] == "skipped" and "no scenario" in only["skip_message"]


def test_impact_rule(written):
    c = controls(written[1])
    assert c["SNMP-01"]["impact"] == IMPACT_HIGH == 0.7  # wire
    assert c["BT-01"]["impact"] == IMPACT_HIGH  # act
    assert c["MGMT-01"]["impact"] == IMPACT_MEDIUM == 0.5  # config
    assert c["BIOS-03"]["impact"] == IMPACT_MEDIUM  # attest
    assert c["IPV6-01"]["impact"] == IMPACT_NONE == 0.0  # not applicable
    assert c["SNMP-01"]["tags"]["severity"] == "high"
    assert all(c[r]["impact"] > 0 for r in EXPECTED if EXPECTED[r] != "not applicable")


def test_control_fields_and_tags(written):
    c = controls(written[1])["SNMP-01"]
    assert c["title"] == "SNMP-01 requirement text from the guide."
    assert c["desc"] == "SNMP-01 requirement text from the guide. Second sentence."
    assert {"label": "default", "data": c["desc"]} in c["descriptions"]
    assert c["tags"]["nist"] == ["IA-3 (1)", "CM-6 b"]
    assert c["tags"]["stig"] == ["VCSA-80-000253 (V-258931)", "ESXI-80-000212 (V-258767)"]
    assert c["tags"]["mapping"] == "STIG"
    assert controls(written[1])["MGMT-01"]["tags"]["mapping"] == "mapped"
    assert c["refs"] == [{"ref": f"{SM}: Network services"}]
    assert c["source_location"]["ref"] == "features/pexip/x.feature"


def test_waived_and_expired_waiver(written):
    c = controls(written[1])
    waived = c["BT-02"]["waiver_data"]
    assert waived["skipped_due_to_waiver"] is True
    assert waived["justification"] == "replaced in the next maintenance window"
    assert waived["expiration_date"] == "2026-06-30"
    assert waived["run"] is True
    expired = c["BT-03"]["waiver_data"]
    assert expired["skipped_due_to_waiver"] is False
    assert "expired" in expired["message"]
    assert heimdall_status(c["BT-03"]) == "Failed"


def test_attestation(written):
    c = controls(written[1])["BIOS-03"]
    assert c["attestation_data"] == {
        "control_id": "BIOS-03",
        "explanation": "The BIOS supervisor password is set on every host.",
        "frequency": "annually",
        "status": "passed",
        "updated": "2026-02-01",
        "updated_by": "P. Operator",
    }
    attested = [r for r in c["results"] if r["code_desc"] == ATTESTATION_CODE_DESC]
    assert [r["status"] for r in attested] == ["passed"]
    assert controls(written[1])["SNMP-01"]["attestation_data"] is None


def test_rewrite_is_byte_identical(written, tmp_path):
    write_hdf(sample_run(), tmp_path)
    assert (tmp_path / "hdf.json").read_bytes() == (written[0] / "hdf.json").read_bytes()


def test_no_secret_anywhere(written):
    for path in written[0].rglob("*"):
        if path.is_file():
            assert SECRET_CANARY not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("catalogue", "tag"),
    [("IA-2(12)", "IA-2 (12)"), ("CM-6 b", "CM-6 b"), ("SC-8", "SC-8"), ("sc-45 (1)", "SC-45 (1)")],
)
def test_nist_tag(catalogue, tag):
    assert nist_tag(catalogue) == tag
