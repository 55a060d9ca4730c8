"""A pytest plugin: pytest-bdd's step lookup, remembered for the run.

To find the definition of a step, pytest-bdd 9 asks pytest, for every fixture name of the
session, which of its definitions the test can see, then tries each step definition's parser on
the step (`pytest_bdd.scenario.find_fixturedefs_for_step`). With Accord's few hundred step
definitions that was about a thousand of pytest's visibility checks per step: over a second of
every run. What a test can see depends only on where it is (its file: a ``conftest.py`` or
test module may define or override steps), and step definitions are all known once collection
is done. So this plugin asks pytest once per test file for the step definitions it can see
(in pytest-bdd's order), then, per step, tries their parsers as pytest-bdd does (the step's
type, then its parser); the answer for a step is remembered for the run. The definitions found,
and pytest-bdd's own choice among them, are unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import pytest
from pytest_bdd.compat import get_fixture_names, getfixturedefs
from pytest_bdd.steps import step_function_context_registry

# The module (``pytest_bdd.scenario`` as a name is also the package's ``scenario`` function).
bdd_scenario = importlib.import_module("pytest_bdd.scenario")

_FIND = bdd_scenario.find_fixturedefs_for_step
_VISIBLE = pytest.StashKey[dict[str, list[tuple[Any, Any]]]]()  # test file -> definitions
_FOUND = pytest.StashKey[dict[tuple[str, str, str], tuple[Any, ...]]]()


def _visible(fixturemanager: Any, node: pytest.Item) -> list[tuple[Any, Any]]:
    """Every step definition ``node``'s file can see, with its step context, in pytest-bdd's
    order (by fixture name, then pytest's order of that name's visible definitions)."""
    visible = node.session.stash.setdefault(_VISIBLE, {})
    path = str(node.path)
    if path not in visible:
        visible[path] = [
            (fixturedef, context)
            for name in get_fixture_names(fixturemanager=fixturemanager)
            for fixturedef in getfixturedefs(fixturemanager, name, node) or []
            if (context := step_function_context_registry.get(fixturedef.func)) is not None
        ]
    return visible[path]


def _find_remembered(step: Any, fixturemanager: Any, node: pytest.Item) -> Iterable[Any]:
    found = node.session.stash.setdefault(_FOUND, {})
    key = (str(step.type), str(step.name), str(node.path))
    if key not in found:
        found[key] = tuple(
            fixturedef
            for fixturedef, context in _visible(fixturemanager, node)
            if (context.type is None or context.type == step.type)
            and context.parser.is_matching(step.name)
        )
    return found[key]


def pytest_configure(config: pytest.Config) -> None:
    bdd_scenario.find_fixturedefs_for_step = _find_remembered  # type: ignore[assignment]


def pytest_unconfigure(config: pytest.Config) -> None:
    bdd_scenario.find_fixturedefs_for_step = _FIND
