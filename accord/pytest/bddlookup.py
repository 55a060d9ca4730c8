"""A pytest plugin: pytest-bdd's step lookup, remembered for the run.

To find the definition of a step, pytest-bdd 9 asks pytest, for every fixture name of the
session, which of its definitions the test can see, then tries each step definition's parser on
the step (`pytest_bdd.scenario.find_fixturedefs_for_step`). With Accord's few hundred step
definitions that is about a thousand of pytest's visibility checks per step: 1.3 s of a 9 s run
of every scenario. The answer depends only on the step (its type and text) and on where the
test is (its file: a ``conftest.py`` or test module may define or override steps), and step
definitions are all known once collection is done, so this plugin remembers it per run, keyed
by exactly those. The definitions found, and pytest-bdd's own choice among them, are unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import pytest

# The module (``pytest_bdd.scenario`` as a name is also the package's ``scenario`` function).
bdd_scenario = importlib.import_module("pytest_bdd.scenario")

_FIND = bdd_scenario.find_fixturedefs_for_step
_REMEMBERED = pytest.StashKey[dict[tuple[str, str, str], tuple[Any, ...]]]()


def _find_remembered(step: Any, fixturemanager: Any, node: pytest.Item) -> Iterable[Any]:
    remembered = node.session.stash.setdefault(_REMEMBERED, {})
    key = (str(step.type), str(step.name), str(node.path))
    if key not in remembered:
        remembered[key] = tuple(_FIND(step=step, fixturemanager=fixturemanager, node=node))
    return remembered[key]


def pytest_configure(config: pytest.Config) -> None:
    bdd_scenario.find_fixturedefs_for_step = _find_remembered  # type: ignore[assignment]


def pytest_unconfigure(config: pytest.Config) -> None:
    bdd_scenario.find_fixturedefs_for_step = _FIND
