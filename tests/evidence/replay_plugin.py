"""A pytest plugin for `test_replay`: says, as the replay target's `systems` fixture does, that
the run's results come from a recording (``pytest features -p tests.evidence.replay_plugin``),
so that a features run on the simulator reports as a replay."""

from __future__ import annotations

import pytest

from accord.pytest.sites import RunSite

RECORDED = "2026-11-24T07:00:00+00:00"


def sentence(site: str) -> str:
    return f"replayed from a recording made at {RECORDED} of {site}"


@pytest.fixture(scope="session", autouse=True)
def _replayed(request: pytest.FixtureRequest, accord_site: RunSite) -> None:
    # Imported here: importing it with this plugin (-p) would keep pytest from rewriting its
    # asserts when the root conftest registers it.
    from accord.pytest.evidence import replayed_from

    replayed_from(request.config, sentence(accord_site.name), site=accord_site.name)
