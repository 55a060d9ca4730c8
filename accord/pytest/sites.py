"""The sites a `pytest features/` run verifies, and how a parallel run shares them out.

``--site FILE`` may be given more than once: every scenario then runs once per site (its test
ID ends with the site's name, ``test_...[hq]``), each site with its own target (on ``sim``, its
own `accord sim` simulators), and the run writes one reports folder whose results cover every
site. Without ``--site`` the run verifies the lab site `accord sim` writes, named "lab".

With pytest-xdist (``-n auto``) and several sites, `SiteScheduling` gives each worker whole
sites: a site's scenarios run on one worker, which starts that site's simulators once. One
site is shared out scenario by scenario (xdist's ``load``); then each worker starts its own
simulators for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accord.site import SiteError, load_site

LAB = "lab"  # the site `accord sim` writes without --site


@dataclass(frozen=True)
class RunSite:
    """One site of the run: its name (the site file's ``[site] name``; the file's stem when it
    cannot be read, and the `systems` fixture then reports why) and its file (None: the lab)."""

    name: str
    file: Path | None


def run_sites(files: list[str] | None) -> tuple[RunSite, ...]:
    """The sites ``--site`` names (none: the lab site); `ValueError` when two share a name,
    since the reports tell sites apart by name."""
    if not files:
        return (RunSite(LAB, None),)
    sites = tuple(RunSite(_name(Path(f)), Path(f)) for f in files)
    names = [s.name for s in sites]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(
            "each --site needs a [site] name of its own (the reports tell sites apart by name): "
            + ", ".join(f"{n!r} is given {names.count(n)} times" for n in twice)
        )
    return sites


def _name(path: Path) -> str:
    try:
        return load_site(path).name
    except SiteError:
        return path.stem


def site_of_test_id(nodeid: str, names: list[str]) -> str | None:
    """The site a scenario's node ID names (its parameters start with the site's ID), or None.
    The longest name wins, so "hq" and "hq-dr" are told apart."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    params = nodeid[nodeid.rindex("[") + 1 : -1]
    for name in sorted(names, key=len, reverse=True):
        if params == name or params.startswith(f"{name}-"):
            return name
    return None


def make_scheduler(config: pytest.Config, log: Any, names: list[str]) -> Any:
    """xdist's ``load`` scheduling, but by site (``names``): each site's scenarios go to one
    worker (the work unit of xdist's ``loadscope`` is the site)."""
    from xdist.scheduler import LoadScopeScheduling

    class SiteScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return site_of_test_id(nodeid, names) or nodeid

    return SiteScheduling(config, log)
