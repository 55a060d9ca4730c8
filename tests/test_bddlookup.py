"""The remembered step lookup (`accord.pytest.bddlookup`) finds what pytest-bdd finds: the same
definition for the same step everywhere, another where a directory overrides it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

STEPS = """
from pytest_bdd import given, parsers, then

@given("a number", target_fixture="number")
def number():
    return 1

@then(parsers.parse("it is {value:d}"))
def it_is(number, value):
    assert number == value
"""

FEATURE = """
Feature: numbers
  Scenario: one
    Given a number
    Then it is 1

  Scenario: two
    Given a number
    Then it is 2
"""


def test_the_same_definitions_as_pytest_bdd_finds(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["accord.pytest.bddlookup", "steps_here"]')
    pytester.makepyfile(steps_here=STEPS)
    for folder in ("plain", "overridden"):
        pytester.mkdir(folder)
        (pytester.path / folder / "numbers.feature").write_text(FEATURE)
        (pytester.path / folder / f"test_{folder}.py").write_text(
            'from pytest_bdd import scenarios\nscenarios("numbers.feature")\n'
        )
    # In this directory "a number" is 2: the remembered lookup must not reuse plain/'s answer.
    (pytester.path / "overridden" / "conftest.py").write_text(
        "from pytest_bdd import given\n\n"
        '@given("a number", target_fixture="number")\n'
        "def number():\n    return 2\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            "PASSED plain/test_plain.py::test_one",
            "FAILED plain/test_plain.py::test_two*",
            "FAILED overridden/test_overridden.py::test_one*",
            "PASSED overridden/test_overridden.py::test_two",
        ]
    )
