"""What a features run records and writes: results.json, observations, progress lines."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from accord.evidence.model import RunResult
from accord.pytest.evidence import _status, observe
from accord.secrets import REDACTED, Secret
from tests.features_run import ROOT, Run, run_features
from tests.test_verification import CANARIES, CANARY_SITE, write_canary_site

SELECTION = "SNMP-01 or SNMP-02 or HOST-03"


def _waivers(today: dt.date) -> str:
    return f"""
[[waivers]]
id = "SNMP-03"
reason = "Canary waiver."
approver = "canary approver"
date = {today - dt.timedelta(days=10)}
expires = {today + dt.timedelta(days=365)}

[[waivers]]
id = "GLB-02"
reason = "Canary waiver, expired."
approver = "canary approver"
date = {today - dt.timedelta(days=400)}
expires = {today - dt.timedelta(days=1)}
"""


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory) -> tuple[Run, Path]:
    """`pytest features -m "SNMP-01 or SNMP-02 or HOST-03"` on the simulator with a site of
    seeded secrets, a waiver in force and an expired one."""
    folder = tmp_path_factory.mktemp("canary")
    today = dt.datetime.now(dt.UTC).date()
    site = write_canary_site(folder, textwrap.dedent(CANARY_SITE) + _waivers(today))
    run = run_features(folder / "reports", "--site", str(site), "-m", SELECTION)
    return run, site


def _results(run: Run) -> tuple[dict, RunResult]:
    document = json.loads((run.reports / "results.json").read_text())
    return document, RunResult.from_json(document)


def test_results_json_describes_the_run(canary_run):
    run, site = canary_run
    _, result = _results(run)
    assert result.accord_version == importlib.metadata.version("accord")
    assert result.site_name == "canary" and result.target == "sim"
    assert result.site_sha256 == hashlib.sha256(site.read_bytes()).hexdigest()
    assert result.started.tzinfo is not None and result.started.utcoffset() == dt.timedelta(0)
    assert result.started < result.ended
    assert run.reports.resolve().parent == (site.parent / "reports").resolve()


def test_each_requirement_has_its_status(canary_run):
    run, _ = canary_run
    _, result = _results(run)
    assert len(result.requirements) == 112
    by_id = {r.requirement.id: r for r in result.requirements}
    statuses = {k: by_id[k].status for k in ("SNMP-01", "SNMP-02", "HOST-03", "SNMP-03", "GLB-02")}
    assert statuses == {
        "SNMP-01": "passed",
        "SNMP-02": "passed",
        "HOST-03": "attested",
        "SNMP-03": "waived",
        "GLB-02": "failed",
    }
    assert by_id["HOST-03"].attestation is not None and by_id["HOST-03"].attestation.by == "canary"
    assert len(by_id["HOST-03"].scenarios) == 2
    assert by_id["SNMP-03"].waiver is not None
    assert by_id["SNMP-03"].waiver.approver == "canary approver"
    assert by_id["GLB-02"].reason.startswith("waiver by canary approver expired on ")
    others = [r for r in result.requirements if r.requirement.id not in statuses]
    assert {(r.status, r.reason) for r in others} == {("not run", "no scenario ran")}
    # The expired waiver fails the run, though every scenario that ran passed or was attested.
    assert run.returncode == 1, run.output


def test_each_scenario_has_its_steps_and_what_they_observed(canary_run):
    run, _ = canary_run
    _, result = _results(run)
    scenarios = {s.name: s for s in result.scenarios}
    assert len(scenarios) == 4
    attested = scenarios["The ESXi hosts are hardened to the VMware ESXi STIG"]
    assert attested.status == "attested" and attested.reason.startswith("attested: Canary STIG.")
    assert attested.feature == "features/vsphere/host_and_vms.feature"
    assert [(s.keyword, s.status) for s in attested.steps] == [
        ("Given", "passed"),
        ("Then", "skipped"),
    ]
    for scenario in result.scenarios:
        assert scenario.observations, scenario.name
        texts = {step.text for step in scenario.steps}
        assert all(o.step in texts for o in scenario.observations), scenario.name
        assert all(o.at.utcoffset() == dt.timedelta(0) for o in scenario.observations)
    snmp = scenarios["Every node's SNMPv3 credentials match the SNMP management station's"]
    assert snmp.requirements == ("SNMP-02",) and snmp.status == "passed"
    [then] = [s for s in snmp.steps if s.keyword == "Then"]
    assert {o.step for o in snmp.observations} == {then.text}
    assert all(o.value["SNMPv3 privacy password"] == REDACTED for o in snmp.observations)


def test_nothing_written_holds_a_seeded_secret(canary_run):
    run, _ = canary_run
    needles = set(CANARIES.values()) | {"canary-comm"}
    written = [p for p in run.reports.rglob("*") if p.is_file()]
    assert "results.json" in {p.name for p in written}
    for path in written:
        content = path.read_text(errors="replace")
        leaked = [n for n in needles if n in content]
        assert not leaked, f"{path} holds {leaked}"
    assert not [n for n in needles if n in run.output]


PROGRESS = re.compile(
    r"^\[ *(?P<n>\d+)/(?P<total>\d+)\] (?:(?P<site>[\w-]+): )?(?P<id>[A-Z][A-Z0-9-]+) +"
    r"(?P<status>not run|not applicable|[a-z]+) +(?P<rest>.*)$"
)


def progress(output: str) -> list[re.Match[str]]:
    """The progress lines of a features run's console, parsed."""
    return [m for line in output.splitlines() if (m := PROGRESS.match(line))]


def test_progress_lines_per_requirement_and_a_summary(canary_run):
    run, _ = canary_run
    lines = run.output.splitlines()
    found = progress(run.output)
    assert [(m["n"], m["total"]) for m in found] == [("1", "3"), ("2", "3"), ("3", "3")]
    by_id = {m["id"]: m for m in found}
    assert sorted(by_id) == ["HOST-03", "SNMP-01", "SNMP-02"]  # one per requirement
    assert by_id["SNMP-01"]["status"] == "passed"
    assert by_id["SNMP-01"]["rest"].endswith("(1 scenario)")
    assert by_id["SNMP-01"]["rest"].startswith("The Management Node and every Conferencing")
    assert by_id["HOST-03"]["status"] == "attested"
    assert by_id["HOST-03"]["rest"].endswith(
        '(2 scenarios): "Canary STIG." (canary, 2026-01-01, expires 2099-01-01)'
    )
    # nothing else: no letter or file name per scenario, no blank line between requirements
    first, last = lines.index(found[0].group(0)), lines.index(found[-1].group(0))
    assert lines[first : last + 1] == [m.group(0) for m in found]
    summary = [line for line in lines if line.startswith("accord: 112 requirements:")]
    assert summary == [
        "accord: 112 requirements: 1 failed, 107 not run (107 with no scenario in this run), "
        "1 waived, 1 attested, 2 passed"
    ]
    assert any(
        line.startswith("accord: GLB-02 ") and "waiver by canary approver expired on " in line
        for line in lines
    )
    caveat = "accord: Not evidence about a real system: this run verified Accord's simulators"
    assert lines[-3].startswith(caveat)  # last (first too, in the header pytest -q leaves out)


def test_junit_still_carries_the_observations(canary_run):
    run, _ = canary_run
    junit = (run.reports / "junit.xml").read_text()
    assert 'name="observed"' in junit and "SNMPv3 credentials are the site" in junit


def test_a_writer_that_fails_fails_the_run_with_one_line(tmp_path):
    run = run_features(tmp_path, "-m", "SNMP-01", "-p", "tests.evidence.broken_writer")
    assert run.returncode == 1, run.output
    assert {s.status for s in run.scenarios} == {"passed"}
    lines = [line for line in run.output.splitlines() if "broken" in line]
    assert lines == ["accord: the broken report was not written: RuntimeError: the disk is full"], (
        run.output
    )
    assert (run.reports / "results.json").is_file()


def test_our_own_tests_write_no_reports(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/evidence/test_rollup.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--reports",
            str(tmp_path / "reports"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "reports").exists()
    assert "accord:" not in done.stdout


def test_an_observation_is_redacted_once_and_json_able(request):
    value = {
        "password": Secret("CANARY-in-process"),
        "community": "canary-comm",
        "key_id": 7,
        "nested": [{"private_key": "-----BEGIN"}],
        "at": dt.date(2026, 1, 2),
    }
    shown = observe(request.node, "probe", value)
    assert shown == {
        "password": REDACTED,
        "community": REDACTED,
        "key_id": 7,
        "nested": [{"private_key": REDACTED}],
        "at": "2026-01-02",
    }


def _phase(when: str, outcome: str, error: BaseException | None = None) -> tuple:
    def happen() -> None:
        if error is not None:
            raise error

    call = pytest.CallInfo.from_call(happen, when=when)
    longrepr = ("x.py", 1, f"Skipped: {error}") if outcome == "skipped" else None
    report = pytest.TestReport("x", ("x.py", 1, "x"), {}, outcome, longrepr, when)
    return report, call


@pytest.mark.parametrize(
    ("when", "outcome", "error", "expected"),
    [
        ("call", "passed", None, None),
        (
            "call",
            "failed",
            AssertionError("SNMP mode is v2c"),
            ("failed", "AssertionError: SNMP mode is v2c"),
        ),
        (
            "setup",
            "failed",
            RuntimeError("no vCenter"),
            ("error", "error in setup: RuntimeError: no vCenter"),
        ),
        ("teardown", "failed", OSError("gone"), ("error", "error in teardown: OSError: gone")),
        ("setup", "skipped", "not run: needs root", ("not run", "not run: needs root")),
        (
            "call",
            "skipped",
            "not applicable: SIP is off",
            ("not applicable", "not applicable: SIP is off"),
        ),
        ("call", "skipped", "attested: a BIOS password", ("attested", "attested: a BIOS password")),
        (
            "call",
            "skipped",
            "the site does not use IPv6",
            ("not run", "the site does not use IPv6"),
        ),
    ],
)
def test_each_phase_outcome_gives_a_status(when, outcome, error, expected):
    if isinstance(error, str):
        report, call = _phase(when, outcome, pytest.skip.Exception(error))
    else:
        report, call = _phase(when, outcome, error)
    assert _status(report, call) == expected
