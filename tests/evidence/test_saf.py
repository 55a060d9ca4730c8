"""MITRE's SAF CLI reads a real run's ``hdf.json`` as an assessor's pipeline would: ``view
summary`` counts every requirement once with its status, ``convert hdf2ckl`` writes a DISA
checklist with an entry per requirement and its STIG item, V-ID and CCIs, ``convert hdf2csv`` has
the CCI column, ``attest apply`` takes a checked-and-attested control, and a threshold made from
the run fails a run with one failed requirement.

One features run on the simulator (the lab site, a handful of requirements, the rest "not run");
SAF (pinned in ``saf/package.json``) is installed by ``make saf`` (`tests.evidence.saf_cli`)."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from accord.evidence.hdf import HEIMDALL_STATUS, write_hdf
from accord.evidence.model import RunResult
from accord.requirements import load_catalogue
from tests.evidence import saf_cli
from tests.features_run import run_features

# Passed (config and wire, Pexip, vSphere and BeyondTrust), checked and attested (HOST-03),
# attested only (BIOS-03).
SELECTION = "SNMP-01 or SNMP-04 or VLAN-01 or BT-09 or HOST-03 or BIOS-03"
SAF_STATUS = {  # `saf view summary`'s keys for Heimdall's statuses
    "Passed": "passed",
    "Failed": "failed",
    "Not Reviewed": "skipped",
    "Profile Error": "error",
    "Not Applicable": "no_impact",
}


def saf(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not saf_cli.installed():
        pytest.fail("the SAF CLI is not installed: run make saf")
    return subprocess.run(
        [*saf_cli.command(), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"},
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult]:
    """The one real run: its folder and its results."""
    done = run_features(tmp_path_factory.mktemp("saf") / "reports", "-m", SELECTION)
    assert done.returncode == 0, done.output
    folder = done.reports.resolve()
    return folder, RunResult.from_json(json.loads((folder / "results.json").read_text()))


@pytest.fixture(scope="module")
def folder(run: tuple[Path, RunResult]) -> Path:
    return run[0]


@pytest.fixture(scope="module")
def results(run: tuple[Path, RunResult]) -> RunResult:
    return run[1]


def test_view_summary_counts_every_requirement_with_its_status(folder, results, tmp_path):
    done = saf("view", "summary", "-i", folder / "hdf.json", "-f", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (summary,) = json.loads(done.stdout)
    expected = Counter(SAF_STATUS[HEIMDALL_STATUS[r.status]] for r in results.requirements)
    assert expected["passed"] == 6  # SNMP-01, SNMP-04, VLAN-01, BT-09, HOST-03, BIOS-03
    counted = {status: summary[status]["total"] for status in SAF_STATUS.values()}
    assert counted == {status: expected[status] for status in SAF_STATUS.values()}
    assert sum(counted.values()) == len(load_catalogue()) == len(results.requirements)


def _vulns(checklist: Path) -> dict[str, dict[str, list[str]]]:
    """Each VULN's STIG_DATA attributes (and its STATUS), by Rule_ID."""
    vulns = {}
    for vuln in ET.parse(checklist).getroot().iter("VULN"):
        data: dict[str, list[str]] = {"STATUS": [vuln.findtext("STATUS") or ""]}
        for item in vuln.iter("STIG_DATA"):
            data.setdefault(item.findtext("VULN_ATTRIBUTE") or "", []).append(
                item.findtext("ATTRIBUTE_DATA") or ""
            )
        vulns[data["Rule_ID"][0]] = data
    return vulns


def test_hdf2ckl_writes_an_entry_per_requirement_with_its_stig_item(folder, results, tmp_path):
    done = saf("convert", "hdf2ckl", "-i", folder / "hdf.json", "-o", "run.ckl", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "run.ckl").is_file(), done.stdout + done.stderr
    vulns = _vulns(tmp_path / "run.ckl")
    catalogue = load_catalogue()
    assert sorted(vulns) == sorted(catalogue)
    assert [v["Vuln_Num"] for v in vulns.values()] == [[rid] for rid in vulns]
    snmp = vulns["SNMP-01"]
    assert snmp["Rule_Ver"] == ["VCSA-80-000253"]  # its first STIG item (V-258931)
    assert "CCI-000366" in snmp["CCI_REF"]  # CM-6 b
    assert vulns["MGMT-01"]["Rule_Ver"] == ["MGMT-01"]  # no STIG item states it
    assert all(v["CCI_REF"] and v["CCI_REF"] != [""] for v in vulns.values())
    status = {r.requirement.id: r.status for r in results.requirements}
    ckl = {"passed": "NotAFinding", "attested": "NotAFinding", "not run": "Not_Reviewed"}
    assert {rid: v["STATUS"][0] for rid, v in vulns.items()} == {
        rid: ckl[s] for rid, s in status.items()
    }
    root = ET.parse(tmp_path / "run.ckl").getroot()
    assert root.findtext("ASSET/HOST_NAME") == "lab"
    assert "Not evidence about a real system" in (root.findtext("ASSET/TARGET_COMMENT") or "")


def test_hdf2ckl_with_v_ids(folder, tmp_path):
    done = saf(
        "convert",
        "hdf2ckl",
        "-i",
        folder / "hdf.json",
        "-o",
        "gid.ckl",
        "--vulidmapping",
        "gid",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    vulns = _vulns(tmp_path / "gid.ckl")
    assert vulns["SNMP-01"]["Vuln_Num"] == ["V-258931"]
    assert vulns["HOST-03"]["Vuln_Num"] == ["V-258730"]  # lockdown mode
    assert vulns["MGMT-01"]["Vuln_Num"] == ["MGMT-01"]


def test_hdf2csv_has_the_cci_column(folder, tmp_path):
    done = saf("convert", "hdf2csv", "-i", folder / "hdf.json", "-o", "run.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "run.csv").open(newline="", encoding="utf-8") as stream:
        rows = {row["ID"]: row for row in csv.DictReader(stream)}
    assert len(rows) == len(load_catalogue())
    assert "CCI-000366" in rows["SNMP-01"]["CCI IDs"].split(", ")
    assert all(row["CCI IDs"] for row in rows.values())


def test_attest_apply_takes_a_checked_and_attested_control(folder, tmp_path):
    """SAF attests only a control whose first result is skipped: HOST-03 (spot checks passed,
    the rest of the STIG attested) is in that shape."""
    attestation = [
        {
            "control_id": "HOST-03",
            "explanation": "Re-attested by the assessor.",
            "frequency": "annually",
            "status": "passed",
            "updated": "2026-01-01",
            "updated_by": "an assessor",
        }
    ]
    (tmp_path / "attestation.json").write_text(json.dumps(attestation))
    done = saf(
        "attest",
        "apply",
        "-i",
        folder / "hdf.json",
        "attestation.json",
        "-o",
        "out.json",
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "must have" not in output and "cannot" not in output, output
    applied = json.loads((tmp_path / "out.json").read_text())
    (host,) = [c for c in applied["profiles"][0]["controls"] if c["id"] == "HOST-03"]
    assert "Re-attested by the assessor." in host["results"][-1]["message"]


def test_a_threshold_from_the_run_fails_a_run_with_one_failed_requirement(
    folder, results, tmp_path
):
    done = saf("generate", "threshold", "-i", folder / "hdf.json", "-o", "t.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    clean = saf("validate", "threshold", "-i", folder / "hdf.json", "-T", "t.yaml", cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # The same run with one requirement failed (a BeyondTrust one: with a profile per guide, SAF
    # saw only the first guide's), its scenario failed, everything else as it was.
    why = "the primary appliance serves a self-signed certificate"
    failed = dataclasses.replace(
        results,
        scenarios=[
            dataclasses.replace(s, status="failed", reason=why) if "BT-09" in s.requirements else s
            for s in results.scenarios
        ],
        requirements=[
            dataclasses.replace(r, status="failed", reason=why)
            if r.requirement.id == "BT-09"
            else r
            for r in results.requirements
        ],
    )
    write_hdf(failed, tmp_path / "failed")
    gate = saf(
        "validate",
        "threshold",
        "-i",
        tmp_path / "failed" / "hdf.json",
        "-T",
        "t.yaml",
        cwd=tmp_path,
    )
    assert gate.returncode != 0, gate.stdout + gate.stderr
    assert "Error:" in gate.stderr and ("not met" in gate.stderr or "not satisfied" in gate.stderr)
