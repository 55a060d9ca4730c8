"""pytest options (--target, --site, --reports), the `systems` fixture and the run's reports.

`pytest features/` verifies on the simulator by default; `--target live --site FILE` verifies
the systems a site file names, read-only. Each run writes ``reports/<UTC time>-<site>/`` with
cucumber JSON and JUnit XML, and points ``reports/latest`` at it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.site import SiteError, load_site
from accord.systems import Systems
from accord.targets import TARGETS, Target

pytest_plugins = [
    "accord.evidence.plugin",  # first: the steps record observations through it
    "steps.common",
    "steps.pexip_settings",
    "steps.pexip_users",
    "steps.pexip_network",
    "steps.pexip_wire",
    "steps.pexip_access",
    "steps.contingency",
    "steps.pexip_certificates",
    "steps.certificate_actions",
    "steps.bootstrap",
    "steps.sessions",
    "steps.vsphere",
    "steps.beyondtrust",
    "steps.beyondtrust_actions",
]

_TARGET = pytest.StashKey[Target]()


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
        default=None,
        help="the site file (required for live; optional for sim)",
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
        tags |= set(re.findall(r"@([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d\d)\b", path.read_text()))
    return tags


def _site_name(site_file: str | None) -> str:
    if site_file is None:
        return "lab"
    try:
        return load_site(site_file).name
    except SiteError:
        return Path(site_file).stem  # the `systems` fixture reports the problem


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point cucumber JSON and JUnit XML at this run's reports folder (features runs only)."""
    for tag in _requirement_tags():
        config.addinivalue_line("markers", f"{tag}: requirement {tag} (../shared/requirements.md)")
    if not _runs_features(config) or hasattr(config, "workerinput"):
        return
    site = _site_name(config.getoption("--site"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(config.getoption("--reports"))
    run = base / f"{stamp}-{config.getoption('--target')}-{site}"
    run.mkdir(parents=True, exist_ok=True)
    from accord.evidence.plugin import RUN_FOLDER  # imported by pytest_plugins

    config.stash[RUN_FOLDER] = run
    if not config.option.cucumber_json_path:
        config.option.cucumber_json_path = str(run / "cucumber.json")
    if not config.option.xmlpath:
        config.option.xmlpath = str(run / "junit.xml")
    latest = base / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        os.symlink(run.name, latest)


@pytest.fixture(scope="session")
def systems(request: pytest.FixtureRequest) -> Iterator[Systems]:
    """The systems to verify, from the chosen target."""
    config = request.config
    target = TARGETS[config.getoption("--target")]()
    config.stash[_TARGET] = target
    site = config.getoption("--site")
    try:
        found = target.start(Path(site) if site else None)
    except SiteError as exc:
        target.stop()
        pytest.exit(str(exc), returncode=4)
    from accord.evidence.plugin import remember_site

    remember_site(config, found.site)
    yield found
    found.close()


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = session.config.stash.get(_TARGET, None)
    if target is None:
        return
    try:
        problems = target.finish()
    finally:
        target.stop()
    if problems:
        for problem in problems:
            print(f"\naccord: {problem}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
