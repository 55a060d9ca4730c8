"""`accord evidence merge`: runs of one site split over several jobs, or of several sites, merge
into the folder one run would have written; folders that do not verify, that come from
different Accord versions or targets, that overlap, or that name two site files alike are
refused. (Two real site runs against one run of both sites: test_sites.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from accord import installed_version
from accord.cli import main
from accord.evidence import manifest
from accord.evidence.formats import WRITERS
from accord.evidence.merge import MergeRefused, merge
from accord.evidence.model import (
    AttestationRecord,
    RunResult,
    ScenarioResult,
    WaiverRecord,
)
from accord.evidence.rollup import rollup
from accord.requirements import Requirement

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CATALOGUE = {
    rid: Requirement(rid, f"{rid} text.", proof, "Pexip Infinity Secure Mode Deployment Guide",
                     "Platform settings", nist=("CM-6 b",))
    for rid, proof in (("GLB-02", "config"), ("SNMP-04", "wire"), ("BIOS-03", "attest"))
}  # fmt: skip
WAIVER = WaiverRecord("GLB-02", "until the dial plan is live", "A. Jones", T0.date(), T0.date())
ATTESTATION = AttestationRecord("BIOS-03", "The BIOS password is set.", "J. Smith", T0.date(),
                                T0.date() + dt.timedelta(days=365))  # fmt: skip


def scenario(site: str, name: str, rid: str, status: str = "passed") -> ScenarioResult:
    return ScenarioResult(
        feature="features/pexip/x.feature",
        name=name,
        requirements=(rid,),
        status=status,  # type: ignore[arg-type]
        reason=None if status == "passed" else f"{status}: why",
        steps=(),
        observations=(),
        started=T0,
        duration=1.0,
        site=site,
    )


def run_of(site: str, scenarios: list[ScenarioResult], sha256: str = "a" * 64) -> RunResult:
    return RunResult(
        accord_version=installed_version(),
        site_name=site,
        site_sha256=sha256,
        target="sim",
        started=T0,
        ended=T0 + dt.timedelta(minutes=1),
        requirements=rollup(scenarios, CATALOGUE, [WAIVER], [ATTESTATION], T0.date(), site),
        scenarios=scenarios,
        sites={site: sha256},
    )


def folder_of(run: RunResult, folder: Path) -> Path:
    """A run's folder as a features run writes it."""
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(run.to_json(), indent=2) + "\n")
    for write in WRITERS.values():
        write(run, folder)
    manifest.write(folder, run)
    return folder


def statuses(run: RunResult) -> dict[tuple[str, str], str]:
    return {(r.site, r.requirement.id): r.status for r in run.requirements}


HQ = [
    scenario("hq", "chat is off", "GLB-02", "failed"),
    scenario("hq", "SNMP answers SHA1 only", "SNMP-04"),
    scenario("hq", "SNMP refuses MD5", "SNMP-04", "failed"),
    scenario("hq", "the BIOS password", "BIOS-03", "attested"),
]


def test_a_site_split_over_two_jobs_merges_into_the_whole(tmp_path):
    whole = run_of("hq", HQ)
    first = folder_of(run_of("hq", HQ[:2]), tmp_path / "job-1")
    second = folder_of(run_of("hq", HQ[2:]), tmp_path / "job-2")
    merged = merge([first, second], tmp_path / "merged")
    assert statuses(merged) == statuses(whole)
    assert statuses(merged)[("hq", "SNMP-04")] == "failed"  # passed in job 1, failed in job 2
    assert statuses(merged)[("hq", "GLB-02")] == "waived"
    assert statuses(merged)[("hq", "BIOS-03")] == "attested"
    assert manifest.verify(tmp_path / "merged") == []
    assert set(merged.merged_from) == {"job-1", "job-2"}
    written = {p.name for p in (tmp_path / "merged").iterdir()}
    assert {"results.json", "cucumber.json", "junit.xml", "hdf.json", "report.html",
            "oscal-assessment-results.json", "oscal-assessment-plan.json",
            "manifest.json", "evidence"} <= written  # fmt: skip
    again = RunResult.from_json(json.loads((tmp_path / "merged" / "results.json").read_text()))
    assert statuses(again) == statuses(whole)


def test_two_sites_merge_with_a_result_per_site(tmp_path):
    hq = folder_of(run_of("hq", HQ), tmp_path / "hq")
    dr = folder_of(
        run_of("dr", [scenario("dr", "chat is off", "GLB-02")], "b" * 64), tmp_path / "dr"
    )
    merged = merge([hq, dr], tmp_path / "merged")
    assert merged.site_name == "hq, dr" and merged.sites == {"hq": "a" * 64, "dr": "b" * 64}
    assert statuses(merged) == statuses(run_of("hq", HQ)) | statuses(
        run_of("dr", [scenario("dr", "chat is off", "GLB-02")])
    )
    hdf = json.loads((tmp_path / "merged" / "hdf.json").read_text())
    (profile,) = hdf["profiles"]
    assert len(profile["controls"]) == len(CATALOGUE)  # each requirement once, both sites in it


def _refused(folders: list[Path], output: Path) -> str:
    with pytest.raises(MergeRefused) as info:
        merge(folders, output)
    return " | ".join(info.value.problems)


def test_a_folder_whose_manifest_does_not_verify_is_refused(tmp_path):
    first = folder_of(run_of("hq", HQ[:2]), tmp_path / "job-1")
    second = folder_of(run_of("hq", HQ[2:]), tmp_path / "job-2")
    (second / "hdf.json").write_text("{}")
    said = _refused([first, second], tmp_path / "merged")
    assert f"{second}: hdf.json: changed" in said
    assert not (tmp_path / "merged").exists()


def test_runs_of_different_accord_versions_are_refused(tmp_path):
    first = folder_of(run_of("hq", HQ[:2]), tmp_path / "job-1")
    older = dataclasses.replace(run_of("hq", HQ[2:]), accord_version="0.0.9")
    second = folder_of(older, tmp_path / "job-2")
    said = _refused([first, second], tmp_path / "merged")
    assert "different Accord versions" in said and "0.0.9" in said


def test_runs_of_another_accord_version_than_this_one_are_refused(tmp_path):
    older = folder_of(dataclasses.replace(run_of("hq", HQ), accord_version="0.0.9"), tmp_path / "a")
    assert "this is Accord" in _refused([older], tmp_path / "merged")


def test_a_simulator_run_is_never_merged_into_a_live_one(tmp_path):
    sim = folder_of(run_of("hq", HQ[:2]), tmp_path / "sim")
    live = folder_of(dataclasses.replace(run_of("dr", [], "b" * 64), target="live"), tmp_path / "l")
    assert "different targets" in _refused([sim, live], tmp_path / "merged")


def test_overlapping_runs_and_twin_site_names_are_refused(tmp_path):
    first = folder_of(run_of("hq", HQ[:2]), tmp_path / "job-1")
    overlap = folder_of(run_of("hq", HQ[1:]), tmp_path / "job-2")
    assert "'SNMP answers SHA1 only' ran in" in _refused([first, overlap], tmp_path / "m1")
    other = folder_of(run_of("hq", HQ[2:], "c" * 64), tmp_path / "job-3")
    assert "two site files are named hq" in _refused([first, other], tmp_path / "m2")


def test_the_output_must_be_new_or_empty(tmp_path):
    first = folder_of(run_of("hq", HQ), tmp_path / "job-1")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert "not an empty folder" in _refused([first], tmp_path / "out")


def test_the_command(tmp_path, capsys):
    first = folder_of(run_of("hq", HQ[:2]), tmp_path / "job-1")
    second = folder_of(run_of("hq", HQ[2:]), tmp_path / "job-2")
    assert main(["evidence", "merge", str(first), str(second), "-o", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "hq: 3 requirements: 1 attested, 1 failed, 1 waived" in out
    assert main(["evidence", "verify", str(tmp_path / "m")]) == 0
    (second / "hdf.json").write_text("{}")
    assert main(["evidence", "merge", str(first), str(second), "-o", str(tmp_path / "n")]) == 1
    assert f"accord evidence merge: {second}: hdf.json: changed" in capsys.readouterr().err
