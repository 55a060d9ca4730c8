"""`accord evidence diff OLD NEW`: the requirements whose status changed between two runs.

Read from each run's ``results.json`` (``RunResult.to_json()``); only what the comparison needs
is read (each requirement's ID, site and status, and whether the run was a replay), so two runs
written by different Accord versions still compare. A run that was a replay
(``RunResult.replayed_from``) is named first, so that no change reads as one seen on the live
site.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from accord.evidence.model import Status

RESULTS = "results.json"


class UnreadableRun(Exception):
    """A run's results cannot be read (missing, not JSON, not a run)."""


class _Requirement(BaseModel):
    id: str


class _Result(BaseModel):
    requirement: _Requirement
    status: Status
    site: str = ""


class _Run(BaseModel):
    model_config = ConfigDict(extra="ignore")
    requirements: list[_Result]
    replayed_from: str | None = None  # absent before replays existed


def load(path: Path) -> dict[tuple[str, str], Status]:
    """Status by (site, requirement ID) of the run in ``path`` (its folder or its
    ``results.json``)."""
    return _statuses(_read(path))


def _read(path: Path) -> _Run:
    file = path / RESULTS if path.is_dir() else path
    try:
        run = _Run.model_validate_json(file.read_bytes())
    except OSError as exc:
        raise UnreadableRun(f"{file}: cannot be read ({exc.strerror})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise UnreadableRun(f"{file}: not a run's results ({where}: {first['msg']})") from exc
    return run


def _statuses(run: _Run) -> dict[tuple[str, str], Status]:
    statuses: dict[tuple[str, str], Status] = {}
    for result in run.requirements:
        statuses[(result.site, result.requirement.id)] = result.status
    return statuses


def changes(old: dict[tuple[str, str], Status], new: dict[tuple[str, str], Status]) -> list[str]:
    """One line per requirement whose status changed (``SNMP-04: passed -> failed``), then the
    ones only the new run has (``added``) and only the old run had (``removed``). Requirements
    are named with their site when the runs span more than one."""
    sites = {site for site, _ in [*old, *new]}

    def name(key: tuple[str, str]) -> str:
        site, requirement = key
        return f"{requirement} ({site})" if len(sites) > 1 and site else requirement

    lines = [
        f"{name(key)}: {old[key]} -> {status}"
        for key, status in new.items()
        if key in old and old[key] != status
    ]
    lines += [f"{name(key)}: added ({status})" for key, status in new.items() if key not in old]
    lines += [
        f"{name(key)}: removed (was {status})" for key, status in old.items() if key not in new
    ]
    return lines


def replays(old: str | None, new: str | None) -> list[str]:
    """A line for each run that was a replay (its ``replayed_from``): ``old run: replayed from a
    recording made at ... of hq (not a live verification)``."""
    return [
        f"{which} run: {replayed} (not a live verification)"
        for which, replayed in (("old", old), ("new", new))
        if replayed
    ]


def diff(old: Path, new: Path) -> list[str]:
    """The changes from run ``old`` to run ``new``, after a line for each that was a replay;
    `UnreadableRun` when either cannot be read."""
    before, after = _read(old), _read(new)
    return replays(before.replayed_from, after.replayed_from) + changes(
        _statuses(before), _statuses(after)
    )
