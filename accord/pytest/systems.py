"""Each site's systems: every scenario once per site (``--site`` repeated), the ``accord_site``
and ``systems`` fixtures (the site's target started, its systems verified, then what the target
found after verification), and under pytest-xdist each site's scenarios on one worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.pytest.sites import RunSite, make_scheduler
from accord.pytest.state import RUN
from accord.site import SiteError
from accord.systems import Systems
from accord.targets import TargetOptions
from accord.targets import target as target_class


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With several sites, every scenario once per site (first in its ID: ``[hq-...]``)."""
    from accord.pytest.evidence import is_scenario

    sites = metafunc.config.stash[RUN].sites
    if len(sites) > 1 and is_scenario(metafunc.function):
        metafunc.parametrize(
            "accord_site", sites, ids=[s.name for s in sites], indirect=True, scope="session"
        )


@pytest.fixture(scope="session", autouse=True)
def accord_site(request: pytest.FixtureRequest) -> RunSite:
    """The site a scenario verifies: its parameter with several sites, else the run's only one.
    Autouse, so that every scenario can be parametrized with it."""
    site: RunSite = getattr(request, "param", None) or request.config.stash[RUN].sites[0]
    return site


@pytest.fixture(scope="session")
def systems(request: pytest.FixtureRequest, accord_site: RunSite) -> Iterator[Systems]:
    """The systems of the scenario's site, from the chosen target (one target per site: its
    scenarios run together, then it stops and the run checks what it found)."""
    from accord.pytest.evidence import (
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
    if len(config.stash[RUN].sites) < 2 or config.getvalue("dist") != "load":
        return None
    return make_scheduler(config, log, [s.name for s in config.stash[RUN].sites])
