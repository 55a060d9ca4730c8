"""pytest options (--target, --site, --reports), the `systems` fixture and the run's reports.

`pytest features/` verifies on the simulator by default; `--target live --site FILE` verifies
the systems a site file names, read-only (``--record DIR`` records it: `accord.recording`);
`--target replay --cassettes DIR` replays such a recording with no network. Each run writes
``reports/<UTC time>-<site>/`` with cucumber JSON and JUnit XML, and points ``reports/latest``
at it.

``--site`` may be repeated: each scenario then runs once per site (its ID ends with the site's
name), each site with its own target, and the one reports folder
(``reports/<UTC time>-<target>-<site>+<site>/``) covers them all. With pytest-xdist (``-n``)
each site's scenarios go to one worker (`accord.evidence.sites`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.evidence.sites import SITES, RunSite, make_scheduler, run_sites
from accord.recording.recorder import Recording, RecordingError
from accord.requirements import TAG
from accord.site import SiteError, check_site, load_site
from accord.systems import Systems
from accord.targets import TARGETS, TargetOptions
from accord.targets import target as target_class

pytest_plugins = [
    "accord.evidence.plugin",  # first: the steps record observations through it
    "accord.recording.plugin",  # --record and --target replay: a cassette per scenario
    "accord.bddlookup",  # pytest-bdd's step lookup, remembered for the run
    "steps.common",
    "steps.scratch",
    "steps.pexip.common",
    "steps.pexip.web",
    "steps.pexip.wire",
    "steps.pexip.scratch",
    "steps.pexip.global_settings",
    "steps.pexip.management_node",
    "steps.pexip.ipv6",
    "steps.pexip.locations",
    "steps.pexip.administrator_roles",
    "steps.pexip.administrator_authentication",
    "steps.pexip.network_services",
    "steps.pexip.snmp",
    "steps.pexip.security_wizard.listeners",
    "steps.pexip.security_wizard.management_web",
    "steps.pexip.contingency",
    "steps.pexip.conferencing_nodes",
    "steps.pexip.certificates.assigned",
    "steps.pexip.certificates.served",
    "steps.pexip.certificate_actions.scenario",
    "steps.pexip.certificate_actions.uploads",
    "steps.pexip.certificate_actions.statuses",
    "steps.pexip.certificate_actions.alarms",
    "steps.pexip.certificate_actions.downloads",
    "steps.pexip.certificate_actions.csrs",
    "steps.pexip.certificate_actions.renewals",
    "steps.pexip.certificate_actions.trusted_cas",
    "steps.vsphere.host_and_vms",
    "steps.beyondtrust.certificates",
    "steps.beyondtrust.certificate_actions.scenario",
    "steps.beyondtrust.certificate_actions.factory",
    "steps.beyondtrust.certificate_actions.self_signed",
    "steps.beyondtrust.certificate_actions.requests",
    "steps.beyondtrust.certificate_actions.imports",
    "steps.beyondtrust.certificate_actions.chain",
    "steps.beyondtrust.certificate_actions.exports",
    "steps.beyondtrust.certificate_actions.renewals",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("accord")
    group.addoption(
        "--target",
        choices=sorted(TARGETS),
        default="sim",
        help="where the systems are: sim (default, simulators) or live",
    )
    group.addoption(
        "--site",
        metavar="FILE",
        action="append",
        default=None,
        help="the site file (required for live; optional for sim); repeat it to verify several "
        "sites, each scenario once per site",
    )
    group.addoption(
        "--record",
        metavar="DIR",
        type=Path,
        default=None,
        help="with --target live: record every scenario's API calls and probes into DIR (an "
        "empty folder), secrets scrubbed",
    )
    group.addoption(
        "--cassettes",
        metavar="DIR",
        type=Path,
        default=None,
        help="with --target replay: the recording to replay (what --record wrote)",
    )
    group.addoption(
        "--evidence",
        choices=("all", "minimal"),
        default="all",
        help="all (default): every report format; minimal: results.json, cucumber JSON, JUnit "
        "XML and the manifest only (no HDF, OSCAL or HTML), for runs that need only statuses",
    )
    group.addoption(
        "--reports",
        metavar="DIR",
        default="reports",
        help="where each run's reports folder is written (default: reports/)",
    )


def _runs_features(config: pytest.Config) -> bool:
    return any("features" in Path(arg).parts for arg in config.args)


def _requirement_tags() -> set[str]:
    """Requirement IDs used as tags, registered as markers (``-m "GLB-02 or SNMP-01"``)."""
    tags: set[str] = set()
    for path in (Path(__file__).parent / "features").rglob("*.feature"):
        tags |= set(TAG.findall(path.read_text()))
    return tags


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point cucumber JSON and JUnit XML at this run's reports folder (features runs only)."""
    for tag in _requirement_tags():
        config.addinivalue_line("markers", f"{tag}: requirement {tag} (../shared/requirements.md)")
    try:
        config.stash[SITES] = run_sites(_site_files(config))
    except ValueError as exc:
        raise pytest.UsageError(f"accord: {exc}") from exc
    if not _runs_features(config):
        return
    _check_sites(config)
    from accord.evidence.plugin import RUN_FOLDER, WORKER  # imported by pytest_plugins

    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes the reports
        config.stash[WORKER] = True
        return
    site = "+".join(s.name for s in config.stash[SITES])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(config.getoption("--reports"))
    run = _new_folder(base, f"{stamp}-{config.getoption('--target')}-{site}")
    config.stash[RUN_FOLDER] = run
    if not config.option.cucumber_json_path:
        config.option.cucumber_json_path = str(run / "cucumber.json")
    if not config.option.xmlpath:
        config.option.xmlpath = str(run / "junit.xml")
    latest = base / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        os.symlink(run.name, latest)


def _new_folder(base: Path, name: str) -> Path:
    """A new folder ``base/name``, or ``base/name-2``, ``-3``... when a run in the same second
    made it first (two runs never share a reports folder)."""
    base.mkdir(parents=True, exist_ok=True)
    for number in itertools.count(1):
        folder = base / (name if number == 1 else f"{name}-{number}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise AssertionError("unreachable")


def _check_sites(config: pytest.Config) -> None:
    """Load and check every site as `accord deploy` does (`accord.site.check_site`) before
    anything runs: a problem is one line and exit code 4, with no reports folder written."""
    target = config.getoption("--target")
    for run_site in config.stash[SITES]:
        if run_site.file is None:
            continue  # the lab: `accord sim` writes it
        try:
            site = load_site(run_site.file, stand_ins=target == "replay")
            check_site(site, files=target != "sim")  # the simulators stand in for its files
        except SiteError as exc:
            problems = str(exc).splitlines()
            more = (
                f" (and {len(problems) - 1} more: `accord deploy --dry-run --site "
                f"{run_site.file}` lists them all)"
                if len(problems) > 1
                else ""
            )
            raise pytest.UsageError(f"accord: {problems[0]}{more}") from None


def _site_files(config: pytest.Config) -> list[str] | None:
    """The ``--site`` files; replaying, the recording's copy of its site. `ValueError` for
    options that do not go together."""
    sites = config.getoption("--site")
    target = config.getoption("--target")
    if config.getoption("--record") is not None:
        if target != "live" or len(sites or ()) != 1:
            raise ValueError("--record needs --target live and one --site: it records a real site")
        if config.getoption("numprocesses", None):
            raise ValueError("--record runs without -n (one recording, written by one process)")
    if target != "replay":
        if config.getoption("--cassettes") is not None:
            raise ValueError("--cassettes needs --target replay")
        return sites  # type: ignore[no-any-return]
    if sites:
        raise ValueError("--target replay takes no --site: the recording holds its site")
    folder = config.getoption("--cassettes")
    if folder is None:
        raise ValueError("--target replay needs --cassettes DIR (the folder --record wrote)")
    try:
        return [str(Recording.open(folder).site_file)]
    except RecordingError as exc:
        raise ValueError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With several sites, every scenario once per site (first in its ID: ``[hq-...]``)."""
    from accord.evidence.plugin import is_scenario

    sites = metafunc.config.stash[SITES]
    if len(sites) > 1 and is_scenario(metafunc.function):
        metafunc.parametrize(
            "accord_site", sites, ids=[s.name for s in sites], indirect=True, scope="session"
        )


@pytest.fixture(scope="session", autouse=True)
def accord_site(request: pytest.FixtureRequest) -> RunSite:
    """The site a scenario verifies: its parameter with several sites, else the run's only one.
    Autouse, so that every scenario can be parametrized with it."""
    site: RunSite = getattr(request, "param", None) or request.config.stash[SITES][0]
    return site


@pytest.fixture(scope="session")
def systems(request: pytest.FixtureRequest, accord_site: RunSite) -> Iterator[Systems]:
    """The systems of the scenario's site, from the chosen target (one target per site: its
    scenarios run together, then it stops and the run checks what it found)."""
    from accord.evidence.plugin import (
        remember_scope,
        remember_site,
        replayed_from,
        target_problems,
        target_requests,
    )

    config = request.config
    options = TargetOptions(config.getoption("--record"), config.getoption("--cassettes"))
    target = target_class(config.getoption("--target"))(options)
    try:
        found = target.start(accord_site.file)
    except SiteError as exc:
        target.stop()
        pytest.exit(str(exc), returncode=4)
    remember_site(config, accord_site, found.site)
    remember_scope(config, accord_site, found)  # what the reports say the run verified
    if found.recorder is not None and found.recorder.replay:
        replayed_from(config, found.recorder.recording.sentence(), site=accord_site.name)
    try:
        yield found
    finally:
        found.close()
        try:
            problems = target.finish()
            target_requests(config, accord_site, target.requests(found))
        finally:
            target.stop()
        target_problems(config, accord_site, problems)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Several sites under ``-n`` (xdist's default ``load``): each site's scenarios on one
    worker, so a site's simulators start once."""
    if len(config.stash[SITES]) < 2 or config.getvalue("dist") != "load":
        return None
    return make_scheduler(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A skipped scenario is reported skipped, never passed.

    pytest-bdd's cucumber JSON marks the steps of a skipped scenario "passed" (it only looks at
    whether a step failed); flag them so its writer reports them "skipped".
    """
    if report.when != "call" or not report.skipped:
        return
    from pytest_bdd.reporting import test_report_context_registry

    context = test_report_context_registry.get(report)
    if context is not None:
        for step in context.scenario["steps"]:
            step["failed"] = True


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """What the sites' targets found after verification fails the run (on the controller under
    xdist, which has every worker's)."""
    from accord.evidence.plugin import found_problems

    if hasattr(session.config, "workerinput"):
        return
    problems = found_problems(session.config)
    if problems:
        for problem in problems:
            print(f"\naccord: {problem}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
