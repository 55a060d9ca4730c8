"""`accord evidence diff OLD NEW`: the requirements whose status changed between two runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from accord.cli import main
from accord.evidence.diff import changes
from accord.evidence.model import RequirementResult, RunResult
from tests.evidence import sample


def save(run: RunResult, folder: Path) -> Path:
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(run.to_json()))
    return folder


def with_status(result: RequirementResult, status: str) -> RequirementResult:
    return dataclasses.replace(result, status=status)  # type: ignore[arg-type]


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    old = sample.run()
    new = sample.run()
    by_id = {r.requirement.id: r for r in new.requirements}
    added = dataclasses.replace(
        by_id["SNMP-01"],
        requirement=dataclasses.replace(by_id["SNMP-01"].requirement, id="SNMP-09"),
    )
    new.requirements = [
        with_status(by_id["SNMP-01"], "failed"),  # passed -> failed
        with_status(by_id["CERT-01"], "passed"),  # failed -> passed
        by_id["SNMP-02"],
        by_id["SNMP-03"],
        by_id["SECW-09"],
        by_id["BT-13"],
        added,
    ]  # SECW-04 is gone
    return save(old, tmp_path / "old"), save(new, tmp_path / "new")


def test_diff_lists_changed_added_and_removed(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = runs
    assert main(["evidence", "diff", str(old), str(new)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "SNMP-01: passed -> failed",
        "CERT-01: failed -> passed",
        "SNMP-09: added (passed)",
        "SECW-04: removed (was not run)",
    ]
    assert err == ""
    assert sample.CANARY not in out


def test_diff_takes_results_files_too(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, _ = runs
    assert main(["evidence", "diff", str(old / "results.json"), str(old)]) == 0
    assert capsys.readouterr() == ("", "")  # nothing changed


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot be read"),
        ("{ not json", "not a run's results"),
        ('{"requirements": [{"status": "passed"}]}', "requirements.0.requirement: Field required"),
        (
            '{"requirements": [{"requirement": {"id": "X-1"}, "status": "great"}]}',
            "requirements.0.status",
        ),
    ],
)
def test_diff_of_unreadable_input_exits_2(
    runs: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    expected: str,
) -> None:
    _, new = runs
    bad = tmp_path / "bad"
    bad.mkdir()
    if content is not None:
        (bad / "results.json").write_text(content)
    assert main(["evidence", "diff", str(bad), str(new)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"accord evidence diff: {bad / 'results.json'}: ") and expected in err


def test_requirements_are_named_with_their_site_when_runs_span_several() -> None:
    old = {("lab", "SNMP-01"): "passed", ("dr", "SNMP-01"): "passed"}
    new = {("lab", "SNMP-01"): "passed", ("dr", "SNMP-01"): "failed"}
    assert changes(old, new) == ["SNMP-01 (dr): passed -> failed"]  # type: ignore[arg-type]
