"""The evidence of a `pytest features/` run: what each scenario showed, and the reports.

A pytest plugin (registered by the root ``conftest.py``). For each scenario it collects a
`ScenarioResult`: the requirement IDs it is tagged with, its status, its steps, and what its
steps observed (through the ``observe`` fixture of ``steps/common.py``, which calls `observe`:
redacted once, by `accord.evidence.redact`, for every file written). Statuses:

- a failure in the scenario's steps: "failed"; in its setup or teardown: "error";
- skipped with "not run: ..." (needs root, no scratch node...): "not run";
  "not applicable: ...": "not applicable"; "attested: ...": "attested"; any other skip:
  "not run" with its reason; a scenario the run stopped before: "not run".

As soon as every scenario of a requirement has finished, one line says how it stands
(``SNMP-04 passed (1 scenario)``); at the end, a count per status. Then, in the run's reports
folder (``reports/<UTC time>-<target>-<site>/``, made by the root conftest): ``results.json``
(`RunResult.to_json`), every writer of `accord.evidence.formats.WRITERS`, and the manifest
(`accord.evidence.manifest.write`). A writer that fails fails the run, with one line saying so.

Only features runs (the root conftest gives them a reports folder) collect or write anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from pytest_bdd.parser import Feature, Scenario, Step
from pytest_bdd.scenario import scenario_wrapper_template_registry

from accord.evidence.catalogue import load_catalogue
from accord.evidence.formats import WRITERS
from accord.evidence.model import (
    PRECEDENCE,
    AttestationRecord,
    Observation,
    Requirement,
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    StepResult,
    Waiver,
)
from accord.evidence.redact import redact
from accord.evidence.rollup import NO_SCENARIO, requirement_result, rollup
from accord.site import Site, SiteError, load_site

REQUIREMENT = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d\d$")
RESULTS = "results.json"
REASON_LIMIT = 4000  # characters of a failure message kept in results.json
LINE_LIMIT = 160  # characters of a reason shown on a progress line
STOPPED = "not run: the run stopped before this scenario"

# The run's reports folder, set by the root conftest on features runs only.
RUN_FOLDER = pytest.StashKey[Path]()


@dataclass
class _Step:
    keyword: str
    text: str
    status: Literal["passed", "failed", "skipped"] = "skipped"  # until it passes or fails
    started: float = 0.0
    duration: float = 0.0


@dataclass
class _Scenario:
    """What one scenario's item has shown so far."""

    scenario: Scenario | None = None  # set when its steps start (pytest-bdd's hook)
    steps: list[_Step] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    statuses: list[tuple[Status, str | None]] = field(default_factory=list)
    started: float | None = None
    duration: float = 0.0


@dataclass
class _Run:
    started: dt.datetime
    catalogue: dict[str, Requirement]
    site: Site | None = None
    site_sha256: str = ""
    site_name: str | None = None  # without a site from the `systems` fixture
    items: dict[str, pytest.Item] = field(default_factory=dict)
    pending: Counter[str] = field(default_factory=Counter)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    finished: set[str] = field(default_factory=set)  # node IDs
    problems: list[str] = field(default_factory=list)  # reports not written
    failed_by_site: list[RequirementResult] = field(default_factory=list)
    result: RunResult | None = None


_RUN = pytest.StashKey[_Run]()
_ITEM = pytest.StashKey[_Scenario]()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _scenario_of(item: pytest.Item) -> _Scenario:
    if _ITEM not in item.stash:
        item.stash[_ITEM] = _Scenario()
    return item.stash[_ITEM]


def observe(item: pytest.Item, what: str, value: Any) -> Any:
    """Record what the current step of ``item``'s scenario observed; returns the value as
    recorded: redacted (`accord.evidence.redact.redact`, the one redaction layer) and JSON-able
    (what JSON cannot hold becomes its ``str``)."""
    shown = json.loads(json.dumps(redact(value), default=str))
    scenario = _scenario_of(item)
    step = scenario.steps[-1].text if scenario.steps else ""
    scenario.observations.append(Observation(step=step, what=what, value=shown, at=_now()))
    return shown


def remember_site(config: pytest.Config, site: Site) -> None:
    """The site the run verifies (the `systems` fixture says so once it has it): its name, its
    waivers and attestations, and the SHA-256 of the site file as read now: the ``--site``
    file, or without one the lab site `accord sim` wrote (a simulated ``--site`` is written
    anew with the same values)."""
    run = config.stash.get(_RUN, None)
    if run is None:
        return
    run.site = site
    run.site_sha256 = _sha256(Path(config.getoption("--site") or site.path))


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def requirements_of(item: pytest.Item) -> tuple[str, ...]:
    """The requirement IDs a scenario is tagged with (its own, its feature's, its rule's)."""
    return tuple(sorted({m.name for m in item.iter_markers() if REQUIREMENT.match(m.name)}))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if RUN_FOLDER not in config.stash:
        return  # not a features run: nothing is collected or written
    try:
        catalogue = load_catalogue()
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"accord: the requirement catalogue cannot be read: {exc}") from exc
    config.stash[_RUN] = _Run(started=_now(), catalogue=catalogue)


def pytest_collection_finish(session: pytest.Session) -> None:
    run = session.config.stash.get(_RUN, None)
    if run is None:
        return
    for item in session.items:
        if _template(item) is None:
            continue
        run.items[item.nodeid] = item
        run.pending.update(requirements_of(item))


def _template(item: pytest.Item) -> Any:
    """pytest-bdd's scenario template of a scenario's test function (None for other tests)."""
    function = getattr(item, "obj", None)
    if function is None:
        return None
    try:
        return scenario_wrapper_template_registry.get(function)
    except TypeError:  # not weak-referenceable: not a scenario
        return None


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, scenario: Scenario) -> None:
    _scenario_of(request.node).scenario = scenario


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Step) -> None:
    _scenario_of(request.node).steps.append(
        _Step(step.keyword.strip(), step.name, started=_clock())
    )


def pytest_bdd_after_step(request: pytest.FixtureRequest) -> None:
    _finish_step(request.node, "passed")


def pytest_bdd_step_error(request: pytest.FixtureRequest) -> None:
    _finish_step(request.node, "failed")


def _clock() -> float:
    return time.perf_counter()


def _finish_step(item: pytest.Item, status: Literal["passed", "failed"]) -> None:
    scenario = _scenario_of(item)
    if scenario.steps:
        step = scenario.steps[-1]
        step.status, step.duration = status, _clock() - step.started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = item.config.stash.get(_RUN, None)
    if run is None or item.nodeid not in run.items:
        return report
    scenario = _scenario_of(item)
    if scenario.started is None:
        scenario.started = call.start
    scenario.duration += call.duration
    status = _status(report, call)
    if status is not None:
        scenario.statuses.append(status)
    if report.when == "teardown":
        result = _result(item, scenario, run)
        run.scenarios.append(result)
        run.finished.add(item.nodeid)
        _progress(item.config, run, result)
    return report


def _status(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Status, str] | None:
    """The status one phase of a scenario gives it (None: this phase changes nothing)."""
    if report.skipped:
        if hasattr(report, "wasxfail"):
            return "failed", f"expected to fail: {report.wasxfail}"
        reason = _skip_reason(report)
        for status in ("not run", "not applicable", "attested"):
            if reason.startswith(status):
                return status, reason
        return "not run", reason
    if report.failed:
        message = call.excinfo.exconly().strip() if call.excinfo is not None else ""
        if not message:
            lines = report.longreprtext.strip().splitlines()
            message = lines[-1] if lines else "failed"
        message = message[:REASON_LIMIT]
        if report.when == "call":
            return "failed", message
        return "error", f"error in {report.when}: {message}"
    return None


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ").strip()
    return str(longrepr).strip()


def _result(item: pytest.Item, scenario: _Scenario, run: _Run) -> ScenarioResult:
    rendered = scenario.scenario or _render(item)
    steps = [
        StepResult(keyword=s.keyword, text=s.text, status=s.status, duration=s.duration)
        for s in scenario.steps
    ]
    for step in rendered.steps[len(steps) :]:  # never reached
        steps.append(StepResult(step.keyword.strip(), step.name, "skipped", 0.0))
    if scenario.statuses:
        status, reason = min(scenario.statuses, key=lambda s: PRECEDENCE.index(s[0]))
    else:
        status, reason = "passed", None
    started = scenario.started if scenario.started is not None else _now().timestamp()
    return ScenarioResult(
        feature=_relative(item.config, rendered.feature),
        name=_name(item, rendered),
        requirements=requirements_of(item),
        status=status,
        reason=reason,
        steps=tuple(steps),
        observations=tuple(scenario.observations),
        started=dt.datetime.fromtimestamp(started, dt.UTC),
        duration=scenario.duration,
        site=_site_name(item.config, run),
    )


def _example(item: pytest.Item) -> dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    example = callspec.params.get("_pytest_bdd_example", {})
    return dict(example) if isinstance(example, dict) else {}


def _render(item: pytest.Item) -> Scenario:
    """The scenario as it would have run (it stopped before its steps: a skip in setup)."""
    rendered: Scenario = _template(item).render(_example(item))
    return rendered


def _name(item: pytest.Item, scenario: Scenario) -> str:
    """The scenario's name; an Outline's example whose name does not show its values gets
    them appended, so every example has a name of its own."""
    example = _example(item)
    template = _template(item)
    if example and template is not None and scenario.name == template.name:
        return f"{scenario.name} ({', '.join(f'{k}: {v}' for k, v in example.items())})"
    return scenario.name


def _relative(config: pytest.Config, feature: Feature) -> str:
    path = Path(feature.filename)
    try:
        return path.resolve().relative_to(config.rootpath.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _site_name(config: pytest.Config, run: _Run) -> str:
    """The site's name; before (or without) the `systems` fixture, as the root conftest names
    the reports folder: the site file's, its stem if it cannot be read, "lab" without one."""
    if run.site is not None:
        return run.site.name
    if run.site_name is None:
        site_file = config.getoption("--site", None)
        if site_file is None:
            run.site_name = "lab"
        else:
            try:
                run.site_name = load_site(site_file).name
            except SiteError:
                run.site_name = Path(site_file).stem
    return run.site_name


def _site_sha256(config: pytest.Config, run: _Run) -> str:
    if run.site_sha256:
        return run.site_sha256
    site_file = config.getoption("--site", None)
    return "" if site_file is None else _sha256(Path(site_file))


def _waivers(run: _Run) -> list[Waiver]:
    if run.site is None:
        return []
    return [
        Waiver(id=w.id, reason=w.reason, approver=w.approver, date=w.date, expires=w.expires)
        for w in run.site.model.waivers
    ]


def _attestations(run: _Run) -> list[AttestationRecord]:
    if run.site is None:
        return []
    return [
        AttestationRecord(id=a.id, statement=a.statement, by=a.by, date=a.date, expires=a.expires)
        for a in run.site.model.attestations
    ]


def _today() -> dt.date:
    return _now().date()


def _progress(config: pytest.Config, run: _Run, result: ScenarioResult) -> None:
    """One line for each requirement whose every scenario has now finished."""
    for requirement in result.requirements:
        run.pending[requirement] -= 1
        if run.pending[requirement] > 0:
            continue
        scenarios = [s for s in run.scenarios if requirement in s.requirements]
        known = run.catalogue.get(requirement)
        if known is None:
            known = Requirement(requirement, "", "", "", "")
        waivers = {w.id: w for w in _waivers(run)}
        attestations = {a.id: a for a in _attestations(run)}
        rolled = requirement_result(
            known,
            scenarios,
            waivers.get(requirement),
            attestations.get(requirement),
            _today(),
        )
        line = progress_line(rolled)
        if requirement not in run.catalogue:
            line += " (not in the requirement catalogue)"
        _write_line(config, line, **_markup(rolled.status))


def progress_line(result: RequirementResult) -> str:
    """``SNMP-04 passed (1 scenario)``, ``AUTH-05 not run: needs root (1 scenario)``."""
    count = len(result.scenarios)
    counted = f" ({count} scenario{'' if count == 1 else 's'})" if count else ""
    if result.status == "passed":
        return f"{result.requirement.id} passed{counted}"
    if result.status == "attested" and result.attestation is not None:
        attestation = result.attestation
        why = f"by {attestation.by} on {attestation.date}, expires {attestation.expires}"
    else:
        why = (result.reason or "").removeprefix(result.status).removeprefix(":").strip()
        why = why.splitlines()[0] if why else ""
        if len(why) > LINE_LIMIT:
            why = why[: LINE_LIMIT - 3] + "..."
    shown = f": {why}" if why else ""
    return f"{result.requirement.id} {result.status}{shown}{counted}"


def _markup(status: str) -> dict[str, bool]:
    if status in ("failed", "error"):
        return {"red": True}
    if status == "passed":
        return {"green": True}
    return {"yellow": True}


def _write_line(config: pytest.Config, line: str, **markup: bool) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # Progress letters (``-q``) leave the cursor mid-line and pytest does not know it.
        if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
            reporter.write("\n")
        reporter.write_line(line, **markup)
    else:
        print(line, file=sys.stderr)


def _not_reached(run: _Run, config: pytest.Config) -> list[ScenarioResult]:
    """A "not run" result for each selected scenario the run stopped before (``-x``, ^C)."""
    missing = []
    for nodeid, item in run.items.items():
        if nodeid in run.finished:
            continue
        rendered = _render(item)
        missing.append(
            ScenarioResult(
                feature=_relative(config, rendered.feature),
                name=_name(item, rendered),
                requirements=requirements_of(item),
                status="not run",
                reason=STOPPED,
                steps=tuple(
                    StepResult(s.keyword.strip(), s.name, "skipped", 0.0) for s in rendered.steps
                ),
                observations=(),
                started=run.started,
                duration=0.0,
                site=_site_name(config, run),
            )
        )
    return missing


def _version() -> str:
    try:
        return importlib.metadata.version("accord")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """results.json, then every writer, then the manifest (after cucumber.json and junit.xml,
    whose writers finish first)."""
    config = session.config
    run = config.stash.get(_RUN, None)
    if run is None or config.option.collectonly:
        return
    folder = config.stash[RUN_FOLDER]
    scenarios = run.scenarios + _not_reached(run, config)
    site = _site_name(config, run)
    result = RunResult(
        accord_version=_version(),
        site_name=site,
        site_sha256=_site_sha256(config, run),
        target=config.getoption("--target"),
        started=run.started,
        ended=_now(),
        requirements=rollup(
            scenarios, run.catalogue, _waivers(run), _attestations(run), _today(), site
        ),
        scenarios=scenarios,
    )
    run.result = result
    written = _attempt(
        run,
        "results.json",
        lambda: _write_results(result, folder),
    )
    if written:
        for name, write in WRITERS.items():
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
            s.status in ("failed", "error") for s in scenarios if r.requirement.id in s.requirements
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


def _attempt(run: _Run, what: str, write: Callable[[], object]) -> bool:
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


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """A count per status across every requirement of the catalogue, and where the reports
    are (or the one line saying which report could not be written)."""
    run = config.stash.get(_RUN, None)
    if run is None or run.result is None:
        return
    counts = Counter(r.status for r in run.result.requirements)
    unselected = sum(1 for r in run.result.requirements if r.reason == NO_SCENARIO)
    parts = []
    for status in PRECEDENCE:
        if counts[status]:
            part = f"{counts[status]} {status}"
            if status == "not run" and unselected:
                part += f" ({unselected} with no scenario in this run)"
            parts.append(part)
    terminalreporter.write_sep("-", "accord: requirements")
    terminalreporter.write_line(
        f"accord: {len(run.result.requirements)} requirements: {', '.join(parts)}"
    )
    for failed in run.failed_by_site:
        terminalreporter.write_line(f"accord: {progress_line(failed)}", red=True)
    for problem in run.problems:
        terminalreporter.write_line(problem, red=True, bold=True)
    if not run.problems:
        terminalreporter.write_line(f"accord: reports in {config.stash[RUN_FOLDER]}/")
