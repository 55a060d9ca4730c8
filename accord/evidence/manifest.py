"""``manifest.json``: every file of a run's evidence folder with its size and SHA-256, and the
run it came from (Accord's version, the site and its file's SHA-256, the target, start and end).

``write`` runs last, after every report format; ``verify`` (``accord evidence verify DIR``)
re-reads the folder and names every problem: a file changed, missing, or not in the manifest,
and a manifest that is malformed or changed itself. The manifest protects itself with the
SHA-256 of its own content and by being exactly as Accord writes it (sorted keys, fixed
indentation), so that a change to any byte of any file in the folder, the manifest included,
is found. This is integrity against accident and tampering in transit, not a signature:
whoever can rewrite the folder can rewrite the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accord.evidence.model import RunResult

MANIFEST = "manifest.json"
FORMAT = "accord-evidence-manifest/1"
SHA256 = r"^[0-9a-f]{64}$"


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    path: str  # relative to the folder, "/"-separated
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256)

    @field_validator("path")
    @classmethod
    def _inside(cls, path: str) -> str:
        pure = PurePosixPath(path)
        if (
            not path
            or "\\" in path
            or pure.is_absolute()
            or ".." in pure.parts
            or pure.as_posix() != path
            or path == MANIFEST
        ):
            raise ValueError(f"not a file inside the folder: {path!r}")
        return path


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    format: Literal["accord-evidence-manifest/1"]
    accord_version: str
    site_name: str
    site_sha256: str
    target: str
    started: str  # ISO 8601, as in results.json
    ended: str
    files: list[FileEntry]
    manifest_sha256: str = Field(pattern=SHA256)  # of the rest, in canonical JSON


def _canonical(body: dict[str, Any]) -> str:
    """The manifest's file, exactly: sorted keys, two-space indentation, ASCII, final newline."""
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def _digest(body: dict[str, Any]) -> str:
    rest = {k: v for k, v in body.items() if k != "manifest_sha256"}
    compact = json.dumps(rest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(compact.encode()).hexdigest()


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` but the manifest, as sorted relative "/"-separated paths."""
    found = []
    for directory, _, names in os.walk(folder):
        for name in names:
            relative = (Path(directory) / name).relative_to(folder).as_posix()
            if relative != MANIFEST:
                found.append(relative)
    return sorted(found)


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def write(folder: Path, run: RunResult) -> Path:
    """Write ``folder/manifest.json`` listing every other file under ``folder``; its path.
    Run it last: a file written afterwards is reported by ``verify``."""
    files = [
        {"path": name, "size": (folder / name).stat().st_size, "sha256": _sha256(folder / name)}
        for name in _files(folder)
    ]
    body: dict[str, Any] = {
        "format": FORMAT,
        "accord_version": run.accord_version,
        "site_name": run.site_name,
        "site_sha256": run.site_sha256,
        "target": run.target,
        "started": run.started.isoformat(),
        "ended": run.ended.isoformat(),
        "files": files,
    }
    body["manifest_sha256"] = _digest(body)
    Manifest.model_validate(body)  # what verify will read
    path = folder / MANIFEST
    path.write_text(_canonical(body), encoding="ascii")
    return path


def verify(folder: Path) -> list[str]:
    """Every problem with ``folder`` against its manifest, one sentence each; empty when every
    file is as the manifest lists it and nothing else is there."""
    path = folder / MANIFEST
    if not folder.is_dir():
        return ["not a folder"]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [f"{MANIFEST}: missing"]
    except OSError as exc:
        return [f"{MANIFEST}: cannot be read ({exc.strerror})"]
    try:
        body = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        return [f"{MANIFEST}: malformed (not JSON: {exc})"]
    try:
        manifest = Manifest.model_validate(body)
    except ValidationError as exc:
        return [
            f"{MANIFEST}: malformed ({'.'.join(str(p) for p in error['loc']) or 'top level'}: "
            f"{error['msg']})"
            for error in exc.errors()
        ]
    problems = []
    if _digest(body) != manifest.manifest_sha256:
        problems.append(f"{MANIFEST}: changed (its content does not match its manifest_sha256)")
    elif raw != _canonical(body).encode():
        problems.append(f"{MANIFEST}: changed (not byte for byte as Accord writes it)")
    listed: set[str] = set()
    for entry in manifest.files:
        if entry.path in listed:
            problems.append(f"{MANIFEST}: malformed ({entry.path} is listed twice)")
            continue
        listed.add(entry.path)
        file = folder / entry.path
        if not file.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        size, sha256 = file.stat().st_size, _sha256(file)
        if size != entry.size or sha256 != entry.sha256:
            problems.append(
                f"{entry.path}: changed ({size} bytes, SHA-256 {sha256}; the manifest says "
                f"{entry.size} bytes, SHA-256 {entry.sha256})"
            )
    problems.extend(f"{name}: not in the manifest" for name in _files(folder) if name not in listed)
    return problems
