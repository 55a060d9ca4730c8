"""The run's reports, written at its end: results.json, then every report format (`--evidence
all`; `minimal` writes none of them), then the manifest; a writer's failure fails the run in one
line. On an xdist worker, what it collected goes to the controller instead (`transport`)."""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from accord import installed_version
from accord.evidence.formats import WRITERS
from accord.evidence.model import RequirementResult, RunResult
from accord.evidence.rollup import rollup
from accord.pytest.evidence import not_reached, site_sha256
from accord.pytest.state import Run, now, run_of, today
from accord.pytest.transport import OUTPUT, worker_output

RESULTS = "results.json"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """results.json, then every writer, then the manifest (after cucumber.json and junit.xml,
    whose writers finish first)."""
    config = session.config
    run = run_of(config)
    if run is None or config.option.collectonly:
        return
    if run.worker:
        config.workeroutput[OUTPUT] = worker_output(run, config)  # type: ignore[attr-defined]
        return
    folder = run.folder
    assert folder is not None  # a features run's controller
    scenarios = run.scenarios + list(not_reached(run, config).values())
    scenarios += run.collected.values()  # from xdist's workers
    day = today()
    requirements: list[RequirementResult] = []
    for site in run.sites:
        facts = run.facts.get(site.name)
        replayed = run.replayed_sentence(site.name)
        requirements += [
            replace(r, replayed_from=replayed)
            for r in rollup(
                [s for s in scenarios if s.site == site.name],
                run.catalogue,
                facts.waivers if facts else [],
                facts.attestations if facts else [],
                day,
                site.name,
            )
        ]
    hashes = {site.name: site_sha256(run, site) for site in run.sites}
    result = RunResult(
        accord_version=installed_version(),
        site_name=", ".join(hashes),
        site_sha256="" if run.several else hashes[run.sites[0].name],
        target=config.getoption("--target"),
        started=run.started,
        ended=now(),
        requirements=requirements,
        scenarios=scenarios,
        sites=hashes,
        replayed_from=run.replayed_sentence(),
        scope={name: facts.scope for name, facts in run.facts.items() if facts.scope},
        scope_notes={name: facts.scope_notes for name, facts in run.facts.items()},
        requests={name: facts.requests for name, facts in run.facts.items() if facts.requests},
    )
    run.result = result
    written = _attempt(
        run,
        "results.json",
        lambda: _write_results(result, folder),
    )
    if written:
        writers = WRITERS if config.getoption("--evidence", "all") == "all" else {}
        for name, write in writers.items():
            _attempt(run, f"the {name} report", lambda write=write: write(result, folder))
        if _module_present("accord.evidence.manifest"):
            manifest = importlib.import_module("accord.evidence.manifest")
            _attempt(run, "the manifest", lambda: manifest.write(folder, result))
    # A requirement failed by the site file alone (an expired waiver or attestation) fails the
    # run as a failed scenario does.
    run.failed_by_site = [
        r
        for r in result.requirements
        if r.status in ("failed", "error")
        and not any(
            s.status in ("failed", "error")
            for s in scenarios
            if r.requirement.id in s.requirements and s.site == r.site
        )
    ]
    if (run.problems or run.failed_by_site) and session.exitstatus in (
        pytest.ExitCode.OK,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _write_results(result: RunResult, folder: Path) -> list[Path]:
    path = folder / RESULTS
    path.write_text(
        json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return [path]


def _attempt(run: Run, what: str, write: Callable[[], object]) -> bool:
    try:
        write()
    except Exception as exc:  # any writer's failure fails the run, loudly
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        run.problems.append(
            f"accord: {what} was not written: {type(exc).__name__}"
            + (f": {first}" if first else "")
        )
        return False
    return True


def _module_present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
