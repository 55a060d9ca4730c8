"""The evidence of a `pytest features/` run: what each scenario showed, and the reports.

A pytest plugin (registered by the root ``conftest.py``). For each scenario it collects a
`ScenarioResult`: the requirement IDs it is tagged with, its status, its steps, and what its
steps observed (through the ``observe`` fixture of ``steps/common.py``, which calls `observe`:
redacted once, by `accord.secrets`, for every file written). Statuses:

- a failure in the scenario's steps: "failed"; in its setup or teardown: "error"; steps that
  passed while the site's waiver of one of the scenario's requirements has expired: "failed";
- skipped with "not run: ..." (needs root, no scratch node...): "not run";
  "not applicable: ...": "not applicable"; "attested: ...": "attested"; any other skip:
  "not run" with its reason; a scenario the run stopped before: "not run".

As soon as every scenario of a requirement has finished, one line says how it stands
(`progress_line`: ``[ 37/112] SNMP-04    passed   SNMPv3 read-only answers only with SHA1...
(1 scenario)``, with an attestation's statement or a waiver's reason and expiry); pytest's own
progress letters and file names are left out of a features run's console (unless ``-v``), and a
run against the simulator or a replay says so first and last; at the end, a count per status.
Then, in the run's reports folder (``reports/<UTC time>-<target>-<site>/``, made by the root
conftest): ``results.json`` (`RunResult.to_json`), every writer of
`accord.evidence.formats.WRITERS`, and the manifest (`accord.evidence.manifest.write`). A writer
that fails fails the run, with one line saying so.

Only features runs (the root conftest gives them a reports folder) collect or write anything.

Several sites (``--site`` given more than once, `accord.pytest.sites`): each scenario result
carries its site, each site's waivers and attestations roll up its own requirements, and the one
folder's `RunResult` has a result per requirement and site. Under pytest-xdist (``-n``) each
worker collects its scenarios' results as above and hands them, with its sites' waivers,
attestations and site file hashes, to the controller through xdist's ``workeroutput`` (read in
``pytest_testnodedown``); the controller merges them in collection order and writes the folder.
pytest-bdd's cucumber JSON needs each report's scenario, which xdist does not carry: it rides
with the serialized report (``pytest_report_to_serializable``/``..._from_serializable``).

A replay (``--target replay``) verifies a recording of a site, not the site: its target says so
once per site through `replayed_from`, and everything this plugin writes says it with every
requirement (each progress line, the count line, ``RequirementResult.replayed_from`` and
``RunResult.replayed_from`` for every writer) and every scenario (a ``replayed_from`` property in
JUnit XML, the scenario's description in cucumber JSON).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, Literal

import pytest
from pytest_bdd.parser import Feature, Scenario, Step
from pytest_bdd.reporting import test_report_context_registry
from pytest_bdd.scenario import scenario_wrapper_template_registry

from accord.evidence import failures
from accord.evidence.model import (
    PRECEDENCE,
    AttestationRecord,
    Observation,
    ScenarioResult,
    Status,
    StepResult,
    WaiverRecord,
    caveat,
)
from accord.pytest.progress import progress
from accord.pytest.sites import RunSite
from accord.pytest.state import (
    RUN,
    Run,
    ScenarioState,
    SiteFacts,
    StepState,
    now,
    run_of,
    scenario_of,
    today,
)
from accord.requirements import ID_PATTERN, load_catalogue
from accord.secrets import redact
from accord.site import Site

REQUIREMENT = ID_PATTERN
REASON_LIMIT = 4000  # characters of a failure message kept in results.json
STOPPED = "not run: the run stopped before this scenario"


def observe(item: pytest.Item, what: str, value: Any) -> Any:
    """Record what the current step of ``item``'s scenario observed; returns the value as
    recorded: redacted (`accord.secrets.redact`, the one redaction layer) and JSON-able
    (what JSON cannot hold becomes its ``str``)."""
    shown = json.loads(json.dumps(redact(value), default=str))
    scenario = scenario_of(item)
    step = scenario.steps[-1].text if scenario.steps else ""
    scenario.observations.append(Observation(step=step, what=what, value=shown, at=now()))
    return shown


def remember_site(config: pytest.Config, verified: RunSite, site: Site) -> None:
    """A site the run verifies (the `systems` fixture says so once it has it): its waivers and
    attestations, and the SHA-256 of the site file as read now: the ``--site`` file, or
    without one the lab site `accord sim` wrote (a simulated ``--site`` is written anew with
    the same values)."""
    run = run_of(config)
    if run is None:
        return
    run.facts[verified.name] = SiteFacts(
        _sha256(verified.file or site.path),
        [
            WaiverRecord(
                id=w.id, reason=w.reason, approver=w.approver, date=w.date, expires=w.expires
            )
            for w in site.model.waivers
        ],
        [
            AttestationRecord(
                id=a.id, statement=a.statement, by=a.by, date=a.date, expires=a.expires
            )
            for a in site.model.attestations
        ],
    )


def remember_scope(config: pytest.Config, verified: RunSite, systems: Any) -> None:
    """What a site's run verifies (`accord.evidence.scope.read_scope` of its `Systems`), said by
    the `systems` fixture after `remember_site`: every report shows it."""
    run = run_of(config)
    facts = run.facts.get(verified.name) if run is not None else None
    if facts is None:
        return
    from accord.evidence.scope import read_scope

    items, notes = read_scope(systems)
    facts.scope, facts.scope_notes = tuple(items), tuple(notes)


def replayed_from(config: pytest.Config, sentence: str, site: str | None = None) -> None:
    """Where this run's results come from when they are not from the live site: the replay
    target's sentence ("replayed from a recording made at 2026-11-24T07:00:00+00:00 of hq"),
    said once per site by the `systems` fixture before that site's scenarios run. Every
    requirement result, progress line and report of the run carries it, so that a replay never
    claims a live verification.

    ``site``, the verified site's name, gives each site of a run of several sites its own
    sentence; said without it, every requirement carries every sentence said.

    Under pytest-xdist it is said on the workers (the fixture runs there) and each worker hands
    what it was told to the controller with its results (``workeroutput``, as the sites' facts
    of `remember_site` travel), before the controller announces or writes anything of that
    worker's scenarios; said on the controller, it counts as well. A replay whose target never
    said it (no scenario reached the fixture) still says "replayed from a recording"."""
    run = run_of(config)
    if run is not None:
        run.remember_replay(site or "", sentence)


def target_problems(config: pytest.Config, site: RunSite, problems: list[str]) -> None:
    """What a site's target found after verification (a write to a verified system): reported
    at the end of the run (by the controller under xdist), and the run fails."""
    run = run_of(config)
    if run is not None:
        prefix = f"{site.name}: " if run.several else ""
        run.target_problems.extend(prefix + p for p in problems)


def target_requests(config: pytest.Config, site: RunSite, lines: list[str]) -> None:
    """What verification sent the site's systems besides its reads (`Target.requests`): every
    report shows it, and so does the end of the run."""
    run = run_of(config)
    facts = run.facts.get(site.name) if run is not None else None
    if facts is not None:
        facts.requests = tuple(lines)


def found_problems(config: pytest.Config) -> list[str]:
    """Every problem `target_problems` was told of (under xdist: on any worker)."""
    run = run_of(config)
    return list(run.target_problems) if run is not None else []


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
    """The run's catalogue and target (`accord.pytest.run` made the run: its sites and folder)."""
    run = run_of(config)
    if run is None:
        return  # not a features run: nothing is collected or written
    try:
        run.catalogue = load_catalogue()
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"accord: the requirement catalogue cannot be read: {exc}") from exc
    run.started = now()
    run.target = str(config.getoption("--target", ""))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not run.worker and config.get_verbosity() <= 0:
        reporter.showfspath = False  # the requirements' lines say what ran (`progress_line`)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """A run against the simulator or a replay says first that it is no evidence about a real
    system."""
    run = run_of(config)
    said = caveat(run.target) if run is not None and not run.worker else None
    return [f"accord: {said}."] if said else []


def pytest_collection_finish(session: pytest.Session) -> None:
    run = run_of(session.config)
    if run is None:
        return
    for item in session.items:
        if _template(item) is None:
            continue
        run.items[item.nodeid] = item
        site = site_of(item).name
        run.pending.update((site, r) for r in requirements_of(item))
    run.expected = len(run.pending)


def is_scenario(function: object) -> bool:
    """Whether a test function is one of pytest-bdd's scenarios."""
    try:
        return scenario_wrapper_template_registry.get(function) is not None  # type: ignore[arg-type]
    except TypeError:  # not weak-referenceable: not a scenario
        return False


def site_of(item: pytest.Item) -> RunSite:
    """The site a scenario verifies: its ``accord_site`` parameter (several sites), or the
    run's only site."""
    callspec = getattr(item, "callspec", None)
    site = callspec.params.get("accord_site") if callspec is not None else None
    return site if isinstance(site, RunSite) else item.config.stash[RUN].sites[0]


def step_texts(item: pytest.Item) -> list[str]:
    """The texts of a scenario's steps, its Background's first (none for other tests)."""
    template = _template(item)
    return [] if template is None else [step.name for step in template.steps]


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
    scenario_of(request.node).scenario = scenario


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Step) -> None:
    scenario_of(request.node).steps.append(
        StepState(step.keyword.strip(), step.name, started=_clock())
    )


def pytest_bdd_after_step(request: pytest.FixtureRequest) -> None:
    _finish_step(request.node, "passed")


def pytest_bdd_step_error(request: pytest.FixtureRequest) -> None:
    _finish_step(request.node, "failed")


def _clock() -> float:
    return time.perf_counter()


def _finish_step(item: pytest.Item, status: Literal["passed", "failed"]) -> None:
    scenario = scenario_of(item)
    if scenario.steps:
        step = scenario.steps[-1]
        step.status, step.duration = status, _clock() - step.started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    run = run_of(item.config)
    if run is None or item.nodeid not in run.items:
        report = yield
        if run is not None:
            failures.clean(report, call)
        return report
    replayed = run.replayed_sentence(site_of(item).name)
    if replayed and call.when == "teardown":
        # JUnit XML writes the properties of a testcase's teardown report (from the item's).
        item.user_properties.append(("replayed_from", replayed))
    report = yield
    failures.clean(report, call)  # before anyone reads it: one line, no secret
    if report.when == "call" and report.passed:
        _fail_if_waiver_expired(item, run, report)
    if report.when == "call" and replayed:
        _describe_replay(report, replayed)
    scenario = scenario_of(item)
    if scenario.started is None:
        scenario.started = call.start
    scenario.duration += call.duration
    status = _status(report, call)
    if status is not None:
        scenario.statuses.append(status)
    if report.when == "teardown":
        result = _result(item, scenario, run)
        run.scenarios.append(result)
        run.finished[item.nodeid] = result
        progress(item.config, run, result)
    return report


def _fail_if_waiver_expired(item: pytest.Item, run: Run, report: pytest.TestReport) -> None:
    """A scenario whose steps passed fails when the site's waiver of one of its requirements
    has expired, as a scenario ending in an expired attestation does: the requirement is failed
    (`accord.evidence.rollup`), and JUnit and cucumber JSON, which know only scenarios, say so
    too. Its steps keep their outcome in results.json; in cucumber JSON the last one carries
    the failure (pytest-bdd reports a scenario's failure on a step)."""
    facts = run.facts.get(site_of(item).name)
    if facts is None:
        return
    day = today()
    requirements = requirements_of(item)
    expired = [w for w in facts.waivers if w.id in requirements and w.expires < day]
    if not expired:
        return
    report.outcome = "failed"
    report.longrepr = (
        "; ".join(
            f"the waiver of {w.id} by {w.approver} expired on {w.expires.isoformat()}"
            for w in expired
        )
        + " (the scenario's own steps passed)"
    )
    context = test_report_context_registry.get(report)
    if context is not None and context.scenario["steps"]:
        context.scenario["steps"][-1]["failed"] = True


def _describe_replay(report: pytest.TestReport, replayed: str) -> None:
    """A replayed scenario's description in cucumber JSON (pytest-bdd writes the call report's
    context) says where its steps' answers came from."""
    context = test_report_context_registry.get(report)
    if context is not None:
        described = context.scenario.get("description") or ""
        context.scenario["description"] = f"{described}\n\n{replayed}".strip()


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
        message = failures.message(call.excinfo)
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


def _result(item: pytest.Item, scenario: ScenarioState, run: Run) -> ScenarioResult:
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
    started = scenario.started if scenario.started is not None else now().timestamp()
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
        site=site_of(item).name,
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


def site_sha256(run: Run, site: RunSite) -> str:
    """The SHA-256 of a site's file as the `systems` fixture read it; without it (no scenario of
    that site ran) of the ``--site`` file as read now, and "" for the lab site."""
    facts = run.facts.get(site.name)
    if facts is not None:
        return facts.sha256
    return "" if site.file is None else _sha256(site.file)


def not_reached(run: Run, config: pytest.Config) -> dict[str, ScenarioResult]:
    """A "not run" result for each selected scenario the run stopped before (``-x``, ^C; on an
    xdist worker also those other workers ran), by node ID."""
    missing = {}
    for nodeid, item in run.items.items():
        if nodeid in run.finished:
            continue
        rendered = _render(item)
        missing[nodeid] = ScenarioResult(
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
            site=site_of(item).name,
        )
    return missing


# --- pytest-xdist: the workers' results reach the controller ------------------------------
