"""The run: its sites checked before anything is touched, its reports folder, and what its
targets found after verification.

`pytest features/` verifies on the simulator by default; `--target live --site FILE` verifies
the systems a site file names, read-only (``--record DIR`` records it: `accord.recording`);
`--target replay --cassettes DIR` replays such a recording with no network. Each run writes
``reports/<UTC time>-<site>/`` with cucumber JSON and JUnit XML, and points ``reports/latest``
at it.

``--site`` may be repeated: each scenario then runs once per site (its ID ends with the site's
name), each site with its own target, and the one reports folder
(``reports/<UTC time>-<target>-<site>+<site>/``) covers them all. With pytest-xdist (``-n``)
each site's scenarios go to one worker (`accord.pytest.sites`).
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.pytest.sites import run_sites
from accord.pytest.state import RUN, Run
from accord.recording.recorder import Recording, RecordingError
from accord.requirements import TAG
from accord.site import SiteError, check_site, load_site


def _runs_features(config: pytest.Config) -> bool:
    return any("features" in Path(arg).parts for arg in config.args)


def _requirement_tags(root: Path) -> set[str]:
    """Requirement IDs used as tags in ``root/features``, registered as markers
    (``-m "GLB-02 or SNMP-01"``)."""
    tags: set[str] = set()
    for path in (root / "features").rglob("*.feature"):
        tags |= set(TAG.findall(path.read_text()))
    return tags


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point cucumber JSON and JUnit XML at this run's reports folder (features runs only)."""
    for tag in _requirement_tags(config.rootpath):
        config.addinivalue_line("markers", f"{tag}: requirement {tag} (../shared/requirements.md)")
    try:
        run = config.stash[RUN] = Run(run_sites(_site_files(config)))
    except ValueError as exc:
        raise pytest.UsageError(f"accord: {exc}") from exc
    if not _runs_features(config):
        return
    _check_sites(config)
    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes the reports
        run.worker = True
        return
    site = "+".join(s.name for s in run.sites)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(config.getoption("--reports"))
    folder = _new_folder(base, f"{stamp}-{config.getoption('--target')}-{site}")
    run.folder = folder
    if not config.option.cucumber_json_path:
        config.option.cucumber_json_path = str(folder / "cucumber.json")
    if not config.option.xmlpath:
        config.option.xmlpath = str(folder / "junit.xml")
    latest = base / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        os.symlink(folder.name, latest)


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
    for run_site in config.stash[RUN].sites:
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
    from accord.pytest.evidence import found_problems

    if hasattr(session.config, "workerinput"):
        return
    problems = found_problems(session.config)
    if problems:
        for problem in problems:
            print(f"\naccord: {problem}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
