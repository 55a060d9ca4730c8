"""manifest.json and `accord evidence verify`: every file with its SHA-256 and the run it came
from; verify passes on what was written and fails after one byte of any file changes, a file
goes missing or one is added."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from accord.cli import main
from accord.evidence.html import write_html
from accord.evidence.manifest import MANIFEST, verify, write
from tests.evidence import sample


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A run's reports folder as a run leaves it: results, reports in a subfolder, manifest."""
    run = sample.run()
    folder = tmp_path / "2025-03-01T090000Z-lab"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(run.to_json(), indent=2))
    write_html(run, folder)
    (folder / "evidence").mkdir()
    (folder / "evidence" / "snmp.json").write_text('{"version": "v3"}\n')
    (folder / "junit.xml").write_bytes(b"")  # an empty file is still listed
    write(folder, run)
    return folder


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def flip(path: Path, position: int, value: int | None = None) -> bytes:
    """Change the byte at ``position`` (to ``value``, else its lowest bit flipped); the
    original bytes."""
    data = path.read_bytes()
    changed = bytearray(data)
    changed[position] = changed[position] ^ 0x01 if value is None else value
    assert bytes(changed) != data
    path.write_bytes(bytes(changed))
    return data


def test_the_manifest_lists_every_file_and_the_run(folder: Path) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    run = sample.run()
    assert manifest["accord_version"] == run.accord_version
    assert manifest["site_name"] == "lab"
    assert manifest["site_sha256"] == run.site_sha256
    assert manifest["target"] == "sim"
    assert manifest["started"] == "2025-03-01T09:00:00+00:00"
    assert manifest["ended"] == "2025-03-01T09:12:30+00:00"
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = [p for p in files(folder) if p.name != MANIFEST]
    assert sorted(listed) == sorted(p.relative_to(folder).as_posix() for p in on_disk)
    assert "evidence/snmp.json" in listed and "report.html" in listed
    for path in on_disk:
        entry = listed[path.relative_to(folder).as_posix()]
        assert entry["size"] == path.stat().st_size
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_passes_on_what_was_written(folder: Path) -> None:
    assert verify(folder) == []


def test_verify_fails_after_one_byte_of_any_file_changes(folder: Path) -> None:
    for path in files(folder):
        if path.stat().st_size == 0:
            continue
        name = path.relative_to(folder).as_posix()
        for position in {0, path.stat().st_size // 2, path.stat().st_size - 1}:
            original = flip(path, position)
            problems = verify(folder)
            assert problems, f"{name}: byte {position} changed, verify passed"
            if name == MANIFEST:  # a changed digest in it also names that file
                assert any(p.startswith(f"{MANIFEST}: ") for p in problems), problems
            else:
                assert all(p.startswith(f"{name}: changed") for p in problems), problems
            path.write_bytes(original)
    assert verify(folder) == []


def test_verify_fails_after_any_byte_of_the_manifest_changes(folder: Path) -> None:
    """Every position, including a change JSON ignores (a space for a tab, \\n for \\r)."""
    path = folder / MANIFEST
    size = path.stat().st_size
    data = path.read_bytes()
    for position in range(size):
        equivalent = {ord(" "): ord("\t"), ord("\n"): ord("\r")}.get(data[position])
        for value in (None, equivalent) if equivalent else (None,):
            original = flip(path, position, value)
            assert verify(folder), f"manifest byte {position} changed, verify passed"
            path.write_bytes(original)
    assert verify(folder) == []


def test_verify_names_a_changed_file(folder: Path) -> None:
    flip(folder / "report.html", 100)
    (problem,) = verify(folder)
    assert problem.startswith("report.html: changed (")
    assert "the manifest says" in problem


def test_verify_fails_when_a_file_is_missing(folder: Path) -> None:
    (folder / "evidence" / "snmp.json").unlink()
    assert verify(folder) == ["evidence/snmp.json: missing"]


def test_verify_fails_when_a_file_is_added(folder: Path) -> None:
    (folder / "notes.txt").write_text("added after the run\n")
    (folder / "evidence" / "late.json").write_text("{}\n")
    assert verify(folder) == [
        "evidence/late.json: not in the manifest",
        "notes.txt: not in the manifest",
    ]


def test_verify_fails_without_a_manifest(folder: Path) -> None:
    (folder / MANIFEST).unlink()
    assert verify(folder) == ["manifest.json: missing"]
    assert verify(folder / "nowhere") == ["not a folder"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: "{ not json", "manifest.json: malformed (not JSON"),
        (lambda m: "[]", "manifest.json: malformed (top level"),
        (lambda m: {k: v for k, v in m.items() if k != "files"}, "malformed (files: Field"),
        (lambda m: {**m, "format": "other/1"}, "malformed (format:"),
        (lambda m: {**m, "extra": 1}, "malformed (extra: Extra inputs"),
        (
            lambda m: {**m, "files": [{"path": "../outside", "size": 1, "sha256": "0" * 64}]},
            "not a file inside the folder: '../outside'",
        ),
        (
            lambda m: {**m, "files": [{"path": "/etc/passwd", "size": 1, "sha256": "0" * 64}]},
            "not a file inside the folder: '/etc/passwd'",
        ),
        (
            lambda m: {**m, "files": [{**m["files"][0], "size": "12"}]},
            "malformed (files.0.size: Input should be a valid integer",
        ),
    ],
)
def test_verify_reports_a_malformed_manifest(folder: Path, change: object, expected: str) -> None:
    path = folder / MANIFEST
    body = change(json.loads(path.read_text()))  # type: ignore[operator]
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    problems = verify(folder)
    assert problems and any(expected in p for p in problems), problems


def test_a_file_written_after_the_manifest_is_reported(folder: Path) -> None:
    """The manifest is written last; rewriting it takes in what was added."""
    (folder / "late.html").write_text("<p>late</p>\n")
    assert verify(folder) == ["late.html: not in the manifest"]
    write(folder, sample.run())
    assert verify(folder) == []


# --- accord evidence verify -----------------------------------------------------------------


def test_cli_verify_passes(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "verify", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{folder}: every file matches its manifest\n" and err == ""


def test_cli_verify_fails_with_a_line_per_problem(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip(folder / "results.json", 10)
    (folder / "junit.xml").unlink()
    (folder / "extra.txt").write_text("x")
    assert main(["evidence", "verify", str(folder)]) == 1
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3, lines
    changed = [line for line in lines if line.startswith(f"{folder}: results.json: changed (")]
    assert len(changed) == 1, lines
    assert f"{folder}: junit.xml: missing" in lines
    assert f"{folder}: extra.txt: not in the manifest" in lines


def test_nothing_written_or_printed_holds_the_canary(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in files(folder):
        assert sample.CANARY.encode() not in path.read_bytes(), path
    flip(folder / "report.html", 5)
    main(["evidence", "verify", str(folder)])
    out, err = capsys.readouterr()
    assert sample.CANARY not in out + err
