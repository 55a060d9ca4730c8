"""Requirement statuses from hand-built scenario results, waivers and attestations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json

import pytest

from accord.evidence.model import (
    PRECEDENCE,
    AttestationRecord,
    Observation,
    Requirement,
    RunResult,
    ScenarioResult,
    Status,
    StepResult,
    WaiverRecord,
)
from accord.evidence.rollup import NO_SCENARIO, rollup
from accord.pytest.progress import progress_line
from accord.requirements import load_catalogue

TODAY = dt.date(2026, 6, 15)
AT = dt.datetime(2026, 6, 15, 9, 30, tzinfo=dt.UTC)
CATALOGUE = {
    requirement: Requirement(requirement, f"{requirement} text", "config", "Guide", "Section")
    for requirement in ("A-01", "A-02", "B-01")
}


def scenario(
    name: str, status: Status, *requirements: str, reason: str | None = None
) -> ScenarioResult:
    return ScenarioResult(
        feature="features/x.feature",
        name=name,
        requirements=requirements,
        status=status,
        reason=reason if reason is not None or status == "passed" else f"{status}: {name}",
        steps=(StepResult("Then", f"{name} holds", "passed", 0.01),),
        observations=(Observation(f"{name} holds", "seen", {"value": 1}, AT),),
        started=AT,
        duration=0.01,
    )


def one(results: list, requirement: str):
    [found] = [r for r in results if r.requirement.id == requirement]
    return found


def test_every_catalogue_requirement_gets_a_result_in_order():
    results = rollup([scenario("s", "passed", "A-02")], CATALOGUE, today=TODAY)
    assert [r.requirement.id for r in results] == ["A-01", "A-02", "B-01"]
    assert one(results, "A-02").status == "passed" and one(results, "A-02").reason is None
    assert (one(results, "A-01").status, one(results, "A-01").reason) == ("not run", NO_SCENARIO)


# No scenario is "waived": waivers come from the site file.
SCENARIO_STATUSES = [status for status in PRECEDENCE if status != "waived"]


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(SCENARIO_STATUSES, 2)))
def test_the_worst_scenario_wins(first, second):
    scenarios = [scenario("one", second, "A-01"), scenario("two", first, "A-01")]
    attested = [AttestationRecord("A-01", "stated", "J. Smith", TODAY, TODAY.replace(year=2027))]
    result = one(rollup(scenarios, CATALOGUE, [], attested, TODAY), "A-01")
    assert result.status == first  # PRECEDENCE lists the worse first
    assert result.scenarios == ("one", "two")
    if first != "passed":
        assert result.reason == f"{first}: two"


def test_precedence_is_fixed():
    assert PRECEDENCE == (
        "failed",
        "error",
        "not run",
        "not applicable",
        "waived",
        "attested",
        "passed",
    )


def test_a_scenario_counts_for_each_of_its_requirements():
    results = rollup(
        [scenario("both", "failed", "A-01", "B-01"), scenario("a", "passed", "A-01")],
        CATALOGUE,
        today=TODAY,
    )
    assert one(results, "A-01").status == one(results, "B-01").status == "failed"
    assert one(results, "B-01").scenarios == ("both",)


WAIVER = WaiverRecord(
    "A-01", "vendor fix due in Q3", "CISO", dt.date(2026, 1, 1), dt.date(2026, 12, 31)
)


@pytest.mark.parametrize("status", ["failed", "error", "not run", "passed"])
def test_a_waiver_in_force_makes_the_requirement_waived_and_keeps_its_scenarios(status):
    result = one(rollup([scenario("s", status, "A-01")], CATALOGUE, [WAIVER], [], TODAY), "A-01")
    assert result.status == "waived"
    assert result.waiver == WAIVER
    assert result.scenarios == ("s",)
    assert "vendor fix due in Q3" in result.reason and "CISO" in result.reason
    assert f"without the waiver: {status}" in result.reason


def test_a_waiver_holds_on_its_last_day_and_fails_the_day_after():
    on_expiry = one(rollup([], CATALOGUE, [WAIVER], [], WAIVER.expires), "A-01")
    assert on_expiry.status == "waived"
    assert "without the waiver: not run: no scenario ran" in on_expiry.reason
    after = one(rollup([], CATALOGUE, [WAIVER], [], WAIVER.expires + dt.timedelta(days=1)), "A-01")
    assert (after.status, after.reason) == ("failed", "waiver by CISO expired on 2026-12-31")
    assert after.waiver == WAIVER


def test_an_expired_waiver_fails_even_a_passing_requirement():
    result = one(
        rollup([scenario("s", "passed", "A-01")], CATALOGUE, [WAIVER], [], dt.date(2027, 1, 1)),
        "A-01",
    )
    assert (result.status, result.reason) == ("failed", "waiver by CISO expired on 2026-12-31")


def test_a_waiver_dated_in_the_future_changes_nothing_yet():
    result = one(
        rollup([scenario("s", "failed", "A-01")], CATALOGUE, [WAIVER], [], dt.date(2025, 12, 31)),
        "A-01",
    )
    assert (result.status, result.reason) == ("failed", "failed: s")


def test_a_waiver_applies_to_its_requirement_only():
    results = rollup([scenario("s", "failed", "A-01", "A-02")], CATALOGUE, [WAIVER], [], TODAY)
    assert one(results, "A-01").status == "waived"
    assert one(results, "A-02").status == "failed" and one(results, "A-02").waiver is None


ATTESTATION = AttestationRecord(
    "A-01", "A BIOS password is set.", "J. Smith", dt.date(2026, 1, 1), dt.date(2027, 1, 1)
)


def test_an_attested_requirement_carries_its_attestation():
    scenarios = [scenario("spot", "passed", "A-01"), scenario("rest", "attested", "A-01")]
    result = one(rollup(scenarios, CATALOGUE, [], [ATTESTATION], TODAY), "A-01")
    assert (result.status, result.attestation) == ("attested", ATTESTATION)
    passed = one(
        rollup([scenario("spot", "passed", "A-01")], CATALOGUE, [], [ATTESTATION], TODAY), "A-01"
    )
    assert (passed.status, passed.attestation) == ("passed", None)


def test_an_attestation_expired_by_the_roll_up_day_fails():
    scenarios = [scenario("rest", "attested", "A-01")]
    result = one(rollup(scenarios, CATALOGUE, [], [ATTESTATION], dt.date(2027, 1, 2)), "A-01")
    assert result.status == "failed"
    assert result.reason == "the attestation of A-01 by J. Smith expired on 2027-01-01"
    assert result.attestation == ATTESTATION


def test_an_attested_scenario_without_an_attestation_fails():
    result = one(rollup([scenario("rest", "attested", "A-01")], CATALOGUE, [], [], TODAY), "A-01")
    assert (result.status, result.reason) == ("failed", "no attestation of A-01 in the site file")


def test_a_failed_attested_scenario_stays_failed():
    # A run fails the scenario of a missing or expired attestation (steps/common.py).
    failed = scenario("rest", "failed", "A-01", reason="AttestationMissing: expired on 2026-01-01")
    result = one(rollup([failed], CATALOGUE, [], [ATTESTATION], TODAY), "A-01")
    assert (result.status, result.reason) == ("failed", "AttestationMissing: expired on 2026-01-01")


def test_the_real_catalogue_rolls_up_every_id():
    results = rollup([scenario("s", "passed", "SNMP-01")], load_catalogue(), today=TODAY)
    assert len(results) == 112
    assert one(results, "SNMP-01").requirement.nist == ("IA-3(1)", "CM-6 b")


def test_a_run_survives_results_json_unchanged():
    scenarios = [scenario("spot", "passed", "A-01"), scenario("rest", "attested", "A-01")]
    run = RunResult(
        accord_version="0.1.0",
        site_name="hq",
        site_sha256="0" * 64,
        target="sim",
        started=AT,
        ended=AT + dt.timedelta(minutes=3),
        requirements=rollup(scenarios, CATALOGUE, [WAIVER], [ATTESTATION], TODAY, "hq"),
        scenarios=scenarios,
    )
    document = json.loads(json.dumps(run.to_json()))
    assert RunResult.from_json(document) == run
    assert document["requirements"][0]["waiver"]["expires"] == "2026-12-31"
    assert document["scenarios"][0]["observations"][0]["at"] == "2026-06-15T09:30:00+00:00"


def test_from_json_refuses_an_unknown_status():
    run = RunResult("0.1.0", "hq", "", "sim", AT, AT, [], [scenario("s", "passed", "A-01")])
    document = run.to_json()
    document["scenarios"][0]["status"] = "green"
    with pytest.raises(ValueError, match="not a status: 'green'"):
        RunResult.from_json(document)


def test_progress_lines():
    results = rollup(
        [
            scenario("s1", "passed", "A-01"),
            scenario("s2", "passed", "A-01"),
            scenario("s3", "not run", "A-02", reason="not run: needs root\nmore"),
            scenario("s4", "attested", "B-01"),
        ],
        CATALOGUE,
        [],
        [dataclasses.replace(ATTESTATION, id="B-01")],
        TODAY,
    )
    assert [progress_line(r) for r in results] == [
        "A-01       passed   A-01 text (2 scenarios)",
        "A-02       not run  A-02 text (1 scenario): needs root",
        'B-01       attested B-01 text (1 scenario): "A BIOS password is set." '
        "(J. Smith, 2026-01-01, expires 2027-01-01)",
    ]


def test_a_progress_line_is_short_and_says_a_waiver_s_reason():
    long = Requirement("C-01", "A requirement " + "very " * 30 + "long. More.", "config", "G", "S")
    waiver = WaiverRecord("C-01", "Until the dial plan is live.", "A. Jones", TODAY, TODAY)
    (result,) = rollup([scenario("s1", "failed", "C-01")], {"C-01": long}, [waiver], [], TODAY)
    line = progress_line(result)
    assert line.startswith("C-01       waived   A requirement very very")
    assert "… (1 scenario): Until the dial plan is live. (approved by A. Jones, expires " in line
    assert len(line) < 200
