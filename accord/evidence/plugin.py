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

Several sites (``--site`` given more than once, `accord.evidence.sites`): each scenario result
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
import importlib
import importlib.util
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pytest
from pytest_bdd.parser import Feature, Scenario, Step
from pytest_bdd.reporting import ReportContext, test_report_context_registry
from pytest_bdd.scenario import scenario_wrapper_template_registry

from accord import installed_version
from accord.evidence import failures
from accord.evidence.formats import WRITERS
from accord.evidence.model import (
    PRECEDENCE,
    AttestationRecord,
    InScope,
    Observation,
    Requirement,
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    StepResult,
    WaiverRecord,
    attestation_from_json,
    caveat,
    jsonable,
    scenario_from_json,
    scope_from_json,
    waiver_from_json,
)
from accord.evidence.rollup import NO_SCENARIO, requirement_result, rollup
from accord.evidence.sites import SITES, RunSite
from accord.requirements import ID_PATTERN, load_catalogue
from accord.secrets import redact
from accord.site import Site

REQUIREMENT = ID_PATTERN
RESULTS = "results.json"
REASON_LIMIT = 4000  # characters of a failure message kept in results.json
LINE_LIMIT = 100  # characters of a reason or statement shown on a progress line
TITLE_LIMIT = 56  # characters of a requirement's first sentence shown on it
ID_WIDTH = 10  # VM-DISK-03
STATUS_WIDTH = 8  # attested
STOPPED = "not run: the run stopped before this scenario"

# The run's reports folder, set by the root conftest on features runs only.
RUN_FOLDER = pytest.StashKey[Path]()
# Set by the root conftest on an xdist worker of a features run: it collects its scenarios'
# results and hands them to the controller, which writes the reports.
WORKER = pytest.StashKey[bool]()
OUTPUT = "accord"  # the key of xdist's workeroutput this plugin uses
REPLAY = "replay"  # the target that re-runs the scenarios from a recording
# What a replay's results say when its target never said which recording (no scenario reached
# the `systems` fixture): still never a live verification.
REPLAYED = "replayed from a recording"
BDD_CONTEXT = "accord_pytest_bdd_context"  # pytest-bdd's report context, serialized


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
class _SiteFacts:
    """What the `systems` fixture learnt of one site: its file's SHA-256, its waivers and
    attestations, and its scope (`remember_scope`)."""

    sha256: str
    waivers: list[WaiverRecord]
    attestations: list[AttestationRecord]
    scope: tuple[InScope, ...] = ()
    scope_notes: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()  # `target_requests`

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "waivers": [jsonable(asdict(w)) for w in self.waivers],
            "attestations": [jsonable(asdict(a)) for a in self.attestations],
            "scope": [asdict(item) for item in self.scope],
            "scope_notes": list(self.scope_notes),
            "requests": list(self.requests),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _SiteFacts:
        return cls(
            data["sha256"],
            [waiver_from_json(w) for w in data["waivers"]],
            [attestation_from_json(a) for a in data["attestations"]],
            scope_from_json(data.get("scope", [])),
            tuple(data.get("scope_notes", [])),
            tuple(data.get("requests", [])),
        )


@dataclass
class _Run:
    started: dt.datetime
    catalogue: dict[str, Requirement]
    sites: tuple[RunSite, ...]
    worker: bool = False  # an xdist worker: collects, writes nothing
    target: str = ""  # the run's --target
    facts: dict[str, _SiteFacts] = field(default_factory=dict)  # by site name
    # What the replay target said of each site's recording (`replayed_from`), by site name ("":
    # said without one).
    replayed: dict[str, list[str]] = field(default_factory=dict)
    items: dict[str, pytest.Item] = field(default_factory=dict)
    pending: Counter[tuple[str, str]] = field(default_factory=Counter)  # (site, requirement)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    finished: dict[str, ScenarioResult] = field(default_factory=dict)  # by node ID
    # On the controller of an xdist run: every scenario the workers collected, in collection
    # order, each with its result once a worker finished it (a "not run" one until then).
    collected: dict[str, ScenarioResult] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)  # node IDs a worker finished
    announced: set[tuple[str, str]] = field(default_factory=set)
    expected: int = 0  # (site, requirement) pairs whose progress line is to come
    problems: list[str] = field(default_factory=list)  # reports not written
    failed_by_site: list[RequirementResult] = field(default_factory=list)
    result: RunResult | None = None

    @property
    def several(self) -> bool:
        return len(self.sites) > 1


_RUN = pytest.StashKey[_Run]()
_PROBLEMS = pytest.StashKey[list[str]]()  # what the sites' targets found after verification
_ITEM = pytest.StashKey[_Scenario]()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _scenario_of(item: pytest.Item) -> _Scenario:
    if _ITEM not in item.stash:
        item.stash[_ITEM] = _Scenario()
    return item.stash[_ITEM]


def observe(item: pytest.Item, what: str, value: Any) -> Any:
    """Record what the current step of ``item``'s scenario observed; returns the value as
    recorded: redacted (`accord.secrets.redact`, the one redaction layer) and JSON-able
    (what JSON cannot hold becomes its ``str``)."""
    shown = json.loads(json.dumps(redact(value), default=str))
    scenario = _scenario_of(item)
    step = scenario.steps[-1].text if scenario.steps else ""
    scenario.observations.append(Observation(step=step, what=what, value=shown, at=_now()))
    return shown


def remember_site(config: pytest.Config, verified: RunSite, site: Site) -> None:
    """A site the run verifies (the `systems` fixture says so once it has it): its waivers and
    attestations, and the SHA-256 of the site file as read now: the ``--site`` file, or
    without one the lab site `accord sim` wrote (a simulated ``--site`` is written anew with
    the same values)."""
    run = config.stash.get(_RUN, None)
    if run is None:
        return
    run.facts[verified.name] = _SiteFacts(
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
    run = config.stash.get(_RUN, None)
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
    run = config.stash.get(_RUN, None)
    if run is not None:
        _remember_replay(run, site or "", sentence)


def _remember_replay(run: _Run, key: str, sentence: str) -> None:
    said = run.replayed.setdefault(key, [])
    if sentence not in said:
        said.append(sentence)


def _replayed(run: _Run, site: str | None = None) -> str | None:
    """What a site's results say of their provenance (``site`` None: the whole run's, every
    sentence said); None for a run that is not a replay."""
    if site is None:
        said = [s for sentences in run.replayed.values() for s in sentences]
    else:
        said = run.replayed.get(site) or run.replayed.get("", [])
    if said:
        return "; ".join(dict.fromkeys(said))
    return REPLAYED if run.target == REPLAY or run.replayed else None


def target_problems(config: pytest.Config, site: RunSite, problems: list[str]) -> None:
    """What a site's target found after verification (a write to a verified system): reported
    at the end of the run (by the controller under xdist), and the run fails."""
    prefix = f"{site.name}: " if len(config.stash[SITES]) > 1 else ""
    config.stash.setdefault(_PROBLEMS, []).extend(prefix + p for p in problems)


def target_requests(config: pytest.Config, site: RunSite, lines: list[str]) -> None:
    """What verification sent the site's systems besides its reads (`Target.requests`): every
    report shows it, and so does the end of the run."""
    run = config.stash.get(_RUN, None)
    facts = run.facts.get(site.name) if run is not None else None
    if facts is not None:
        facts.requests = tuple(lines)


def found_problems(config: pytest.Config) -> list[str]:
    """Every problem `target_problems` was told of (under xdist: on any worker)."""
    return list(config.stash.get(_PROBLEMS, []))


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
    worker = config.stash.get(WORKER, False)
    if RUN_FOLDER not in config.stash and not worker:
        return  # not a features run: nothing is collected or written
    try:
        catalogue = load_catalogue()
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"accord: the requirement catalogue cannot be read: {exc}") from exc
    config.stash[_RUN] = _Run(
        started=_now(),
        catalogue=catalogue,
        sites=config.stash[SITES],
        worker=worker,
        target=str(config.getoption("--target", "")),
    )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not worker and config.get_verbosity() <= 0:
        reporter.showfspath = False  # the requirements' lines say what ran (`progress_line`)


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> Generator[None, Any, Any]:
    """A features run prints a line per requirement, not pytest's letter per scenario (the
    counts at the end are pytest's still); ``-v`` keeps pytest's lines."""
    result = yield
    run = config.stash.get(_RUN, None)
    if run is None or run.worker or config.get_verbosity() > 0 or not result:
        return result
    return result[0], "", ""


def pytest_report_header(config: pytest.Config) -> list[str]:
    """A run against the simulator or a replay says first that it is no evidence about a real
    system."""
    run = config.stash.get(_RUN, None)
    said = caveat(run.target) if run is not None and not run.worker else None
    return [f"accord: {said}."] if said else []


def pytest_collection_finish(session: pytest.Session) -> None:
    run = session.config.stash.get(_RUN, None)
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
    return site if isinstance(site, RunSite) else item.config.stash[SITES][0]


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
    run = item.config.stash.get(_RUN, None)
    if run is None or item.nodeid not in run.items:
        report = yield
        if run is not None:
            failures.clean(report, call)
        return report
    replayed = _replayed(run, site_of(item).name)
    if replayed and call.when == "teardown":
        # JUnit XML writes the properties of a testcase's teardown report (from the item's).
        item.user_properties.append(("replayed_from", replayed))
    report = yield
    failures.clean(report, call)  # before anyone reads it: one line, no secret
    if report.when == "call" and report.passed:
        _fail_if_waiver_expired(item, run, report)
    if report.when == "call" and replayed:
        _describe_replay(report, replayed)
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
        run.finished[item.nodeid] = result
        _progress(item.config, run, result)
    return report


def _fail_if_waiver_expired(item: pytest.Item, run: _Run, report: pytest.TestReport) -> None:
    """A scenario whose steps passed fails when the site's waiver of one of its requirements
    has expired, as a scenario ending in an expired attestation does: the requirement is failed
    (`accord.evidence.rollup`), and JUnit and cucumber JSON, which know only scenarios, say so
    too. Its steps keep their outcome in results.json; in cucumber JSON the last one carries
    the failure (pytest-bdd reports a scenario's failure on a step)."""
    facts = run.facts.get(site_of(item).name)
    if facts is None:
        return
    today = _today()
    requirements = requirements_of(item)
    expired = [w for w in facts.waivers if w.id in requirements and w.expires < today]
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


def _site_sha256(run: _Run, site: RunSite) -> str:
    """The SHA-256 of a site's file as the `systems` fixture read it; without it (no scenario of
    that site ran) of the ``--site`` file as read now, and "" for the lab site."""
    facts = run.facts.get(site.name)
    if facts is not None:
        return facts.sha256
    return "" if site.file is None else _sha256(site.file)


def _today() -> dt.date:
    return _now().date()


def _progress(config: pytest.Config, run: _Run, result: ScenarioResult) -> None:
    """One line for each requirement whose every scenario has now finished (on an xdist
    worker none: the controller says it)."""
    for requirement in result.requirements:
        key = (result.site, requirement)
        run.pending[key] -= 1
        if run.pending[key] <= 0 and not run.worker:
            scenarios = [s for s in run.scenarios if s.site == result.site]
            _announce(config, run, result.site, requirement, scenarios)


def _announce(
    config: pytest.Config,
    run: _Run,
    site: str,
    requirement: str,
    scenarios: list[ScenarioResult],
) -> None:
    """The progress line of one requirement of one site, from the site's scenarios so far."""
    run.announced.add((site, requirement))
    known = run.catalogue.get(requirement)
    if known is None:
        known = Requirement(requirement, "", "", "", "")
    facts = run.facts.get(site)
    rolled = requirement_result(
        known,
        [s for s in scenarios if requirement in s.requirements],
        next((w for w in facts.waivers if w.id == requirement), None) if facts else None,
        next((a for a in facts.attestations if a.id == requirement), None) if facts else None,
        _today(),
    )
    rolled = replace(rolled, replayed_from=_replayed(run, site))
    line = progress_line(rolled)
    if requirement not in run.catalogue:
        line += " (not in the requirement catalogue)"
    if run.several:
        line = f"{site}: {line}"
    total = max(run.expected, len(run.announced))
    line = f"[{len(run.announced):>{len(str(total))}}/{total}] {line}"
    _write_line(config, line, **_markup(rolled.status))


def progress_line(result: RequirementResult) -> str:
    """One requirement's line for a person: ID, status, a short title, how many scenarios, then
    why (the reason's first line; an attestation's statement, who and until when; a waiver's
    reason, approver and expiry), and a replay's provenance:
    ``SNMP-04    passed   SNMPv3 read-only answers only with SHA1 auth… (1 scenario)``."""
    requirement = result.requirement
    count = len(result.scenarios)
    counted = f" ({count} scenario{'' if count == 1 else 's'})" if count else ""
    title = _shorten(_first_sentence(requirement.text), TITLE_LIMIT)
    head = f"{requirement.id:<{ID_WIDTH}} {result.status:<{STATUS_WIDTH}} {title}".rstrip()
    head += counted
    if result.status == "attested" and result.attestation is not None:
        a = result.attestation
        why = f'"{_shorten(a.statement, LINE_LIMIT)}" ({a.by}, {a.date}, expires {a.expires})'
    elif result.status == "waived" and result.waiver is not None:
        w = result.waiver
        why = f"{_shorten(w.reason, LINE_LIMIT)} (approved by {w.approver}, expires {w.expires})"
    elif result.status == "passed":
        why = ""
    else:
        why = (result.reason or "").removeprefix(result.status).removeprefix(":").strip()
        why = _shorten(why.splitlines()[0], LINE_LIMIT) if why else ""
    shown = f": {why}" if why else ""
    return f"{head}{shown}{_replay_note(result.replayed_from)}"


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(".")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _replay_note(replayed: str | None) -> str:
    return f" — {replayed}" if replayed else ""


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


def _not_reached(run: _Run, config: pytest.Config) -> dict[str, ScenarioResult]:
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


def _worker_output(run: _Run, config: pytest.Config) -> dict[str, Any]:
    """What a worker hands the controller: every scenario it collected in collection order,
    with its result when this worker finished it; its sites' facts; its targets' problems.
    JSON-able, as execnet carries it."""
    results = run.finished | _not_reached(run, config)
    return {
        "scenarios": [
            [nodeid, nodeid in run.finished, jsonable(asdict(results[nodeid]))]
            for nodeid in run.items
        ],
        "sites": {name: facts.to_json() for name, facts in run.facts.items()},
        "replayed": run.replayed,
        "problems": found_problems(config),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller of an xdist run: merge what a worker that finished handed over, then say
    how each requirement stands whose every scenario has now finished."""
    config: pytest.Config = node.config
    run = config.stash.get(_RUN, None)
    output = getattr(node, "workeroutput", {}).get(OUTPUT)
    if run is None or output is None:
        return
    for nodeid, finished, data in output["scenarios"]:
        if finished:
            run.collected[nodeid] = scenario_from_json(data)
            run.done.add(nodeid)
        elif nodeid not in run.collected:
            run.collected[nodeid] = scenario_from_json(data)
    for name, facts in output["sites"].items():
        run.facts[name] = _SiteFacts.from_json(facts)
    for key, sentences in output["replayed"].items():
        for sentence in sentences:
            _remember_replay(run, key, sentence)
    config.stash.setdefault(_PROBLEMS, []).extend(output["problems"])
    totals: Counter[tuple[str, str]] = Counter()
    finished: Counter[tuple[str, str]] = Counter()
    for nodeid, scenario in run.collected.items():
        for requirement in scenario.requirements:
            totals[(scenario.site, requirement)] += 1
            finished[(scenario.site, requirement)] += nodeid in run.done
    run.expected = max(run.expected, len(totals))
    done = [run.collected[n] for n in run.collected if n in run.done]
    for key, total in totals.items():
        if finished[key] == total and key not in run.announced:
            site, requirement = key
            _announce(config, run, site, requirement, [s for s in done if s.site == site])


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    config: pytest.Config, report: pytest.CollectReport | pytest.TestReport
) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
    """An xdist worker's report carries pytest-bdd's scenario context (cucumber JSON)."""
    data = yield
    context = test_report_context_registry.get(report)  # type: ignore[arg-type]
    if data is not None and context is not None:
        data[BDD_CONTEXT] = {"scenario": context.scenario, "name": context.name}
    return data


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(
    config: pytest.Config, data: dict[str, Any]
) -> Generator[None, Any, Any]:
    """The controller gives the report its pytest-bdd context back."""
    context = data.pop(BDD_CONTEXT, None)
    report = yield
    if context is not None and isinstance(report, pytest.TestReport):
        test_report_context_registry[report] = ReportContext(
            scenario=context["scenario"], name=context["name"]
        )
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """results.json, then every writer, then the manifest (after cucumber.json and junit.xml,
    whose writers finish first)."""
    config = session.config
    run = config.stash.get(_RUN, None)
    if run is None or config.option.collectonly:
        return
    if run.worker:
        config.workeroutput[OUTPUT] = _worker_output(run, config)  # type: ignore[attr-defined]
        return
    folder = config.stash[RUN_FOLDER]
    scenarios = run.scenarios + list(_not_reached(run, config).values())
    scenarios += run.collected.values()  # from xdist's workers
    today = _today()
    requirements: list[RequirementResult] = []
    for site in run.sites:
        facts = run.facts.get(site.name)
        replayed = _replayed(run, site.name)
        requirements += [
            replace(r, replayed_from=replayed)
            for r in rollup(
                [s for s in scenarios if s.site == site.name],
                run.catalogue,
                facts.waivers if facts else [],
                facts.attestations if facts else [],
                today,
                site.name,
            )
        ]
    hashes = {site.name: _site_sha256(run, site) for site in run.sites}
    result = RunResult(
        accord_version=installed_version(),
        site_name=", ".join(hashes),
        site_sha256="" if run.several else hashes[run.sites[0].name],
        target=config.getoption("--target"),
        started=run.started,
        ended=_now(),
        requirements=requirements,
        scenarios=scenarios,
        sites=hashes,
        replayed_from=_replayed(run),
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
    terminalreporter.write_sep("-", "accord: requirements")
    for site in run.sites:
        results = [r for r in run.result.requirements if r.site == site.name]
        counts = Counter(r.status for r in results)
        unselected = sum(1 for r in results if r.reason == NO_SCENARIO)
        parts = []
        for status in PRECEDENCE:
            if counts[status]:
                part = f"{counts[status]} {status}"
                if status == "not run" and unselected:
                    part += f" ({unselected} with no scenario in this run)"
                parts.append(part)
        named = f"{site.name}: " if run.several else ""
        replayed = _replay_note(_replayed(run, site.name))
        terminalreporter.write_line(
            f"accord: {named}{len(results)} requirements: {', '.join(parts)}{replayed}"
        )
    for site, lines in run.result.requests.items():
        named = f"{site}: " if run.several else ""
        for line in lines:
            terminalreporter.write_line(f"accord: {named}{line}")
    for failed in run.failed_by_site:
        named = f"{failed.site}: " if run.several else ""
        terminalreporter.write_line(f"accord: {named}{progress_line(failed)}", red=True)
    said = caveat(run.result.target, run.result.replayed_from)
    if said:
        terminalreporter.write_line(f"accord: {said}.", yellow=True, bold=True)
    for problem in run.problems:
        terminalreporter.write_line(problem, red=True, bold=True)
    if not run.problems:
        terminalreporter.write_line(f"accord: reports in {config.stash[RUN_FOLDER]}/")
