"""What a person sees while a features run goes: one line per requirement as its last scenario
ends (ID, status, a short title, how many scenarios, and for attested or waived the statement
and expiry), the count so far, then the totals and where the reports are."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Generator
from dataclasses import replace
from typing import Any

import pytest

from accord.evidence.model import PRECEDENCE, RequirementResult, ScenarioResult, caveat
from accord.evidence.rollup import NO_SCENARIO, requirement_result
from accord.pytest.state import Run, run_of, today
from accord.requirements import Requirement

LINE_LIMIT = 100  # characters of a reason or statement shown on a progress line
TITLE_LIMIT = 56  # characters of a requirement's first sentence shown on it
ID_WIDTH = 10  # VM-DISK-03
STATUS_WIDTH = 8  # attested


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> Generator[None, Any, Any]:
    """A features run prints a line per requirement, not pytest's letter per scenario (the
    counts at the end are pytest's still); ``-v`` keeps pytest's lines. The word stays, for
    pytest's short summary says ``FAILED nodeid - reason`` with it."""
    result = yield
    run = run_of(config)
    if run is None or run.worker or config.get_verbosity() > 0 or not result:
        return result
    return result[0], "", result[2]


def progress(config: pytest.Config, run: Run, result: ScenarioResult) -> None:
    """One line for each requirement whose every scenario has now finished (on an xdist
    worker none: the controller says it)."""
    for requirement in result.requirements:
        key = (result.site, requirement)
        run.pending[key] -= 1
        if run.pending[key] <= 0 and not run.worker:
            scenarios = [s for s in run.scenarios if s.site == result.site]
            announce(config, run, result.site, requirement, scenarios)


def announce(
    config: pytest.Config,
    run: Run,
    site: str,
    requirement: str,
    scenarios: list[ScenarioResult],
) -> None:
    """The progress line of one requirement of one site, from the site's scenarios so far."""
    run.announced.add((site, requirement))
    known = run.catalogue.get(requirement)
    if known is None:
        known = Requirement(requirement, "", "", "", "")
    facts = run.facts.get(site)
    rolled = requirement_result(
        known,
        [s for s in scenarios if requirement in s.requirements],
        next((w for w in facts.waivers if w.id == requirement), None) if facts else None,
        next((a for a in facts.attestations if a.id == requirement), None) if facts else None,
        today(),
    )
    rolled = replace(rolled, replayed_from=run.replayed_sentence(site))
    line = progress_line(rolled)
    if requirement not in run.catalogue:
        line += " (not in the requirement catalogue)"
    if run.several:
        line = f"{site}: {line}"
    total = max(run.expected, len(run.announced))
    line = f"[{len(run.announced):>{len(str(total))}}/{total}] {line}"
    _write_line(config, line, **_markup(rolled.status))


def progress_line(result: RequirementResult) -> str:
    """One requirement's line for a person: ID, status, a short title, how many scenarios, then
    why (the reason's first line; an attestation's statement, who and until when; a waiver's
    reason, approver and expiry), and a replay's provenance:
    ``SNMP-04    passed   SNMPv3 read-only answers only with SHA1 auth… (1 scenario)``."""
    requirement = result.requirement
    count = len(result.scenarios)
    counted = f" ({count} scenario{'' if count == 1 else 's'})" if count else ""
    title = _shorten(_first_sentence(requirement.text), TITLE_LIMIT)
    head = f"{requirement.id:<{ID_WIDTH}} {result.status:<{STATUS_WIDTH}} {title}".rstrip()
    head += counted
    if result.status == "attested" and result.attestation is not None:
        a = result.attestation
        why = f'"{_shorten(a.statement, LINE_LIMIT)}" ({a.by}, {a.date}, expires {a.expires})'
    elif result.status == "waived" and result.waiver is not None:
        w = result.waiver
        why = f"{_shorten(w.reason, LINE_LIMIT)} (approved by {w.approver}, expires {w.expires})"
    elif result.status == "passed":
        why = ""
    else:
        why = (result.reason or "").removeprefix(result.status).removeprefix(":").strip()
        why = _shorten(why.splitlines()[0], LINE_LIMIT) if why else ""
    shown = f": {why}" if why else ""
    return f"{head}{shown}{_replay_note(result.replayed_from)}"


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(".")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _replay_note(replayed: str | None) -> str:
    return f" — {replayed}" if replayed else ""


def _markup(status: str) -> dict[str, bool]:
    if status in ("failed", "error"):
        return {"red": True}
    if status == "passed":
        return {"green": True}
    return {"yellow": True}


def _write_line(config: pytest.Config, line: str, **markup: bool) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # Progress letters (``-q``) leave the cursor mid-line and pytest does not know it.
        if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
            reporter.write("\n")
        reporter.write_line(line, **markup)
    else:
        print(line, file=sys.stderr)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """A count per status across every requirement of the catalogue, and where the reports
    are (or the one line saying which report could not be written)."""
    run = run_of(config)
    if run is None or run.result is None:
        return
    terminalreporter.write_sep("-", "accord: requirements")
    for site in run.sites:
        results = [r for r in run.result.requirements if r.site == site.name]
        counts = Counter(r.status for r in results)
        unselected = sum(1 for r in results if r.reason == NO_SCENARIO)
        parts = []
        for status in PRECEDENCE:
            if counts[status]:
                part = f"{counts[status]} {status}"
                if status == "not run" and unselected:
                    part += f" ({unselected} with no scenario in this run)"
                parts.append(part)
        named = f"{site.name}: " if run.several else ""
        replayed = _replay_note(run.replayed_sentence(site.name))
        terminalreporter.write_line(
            f"accord: {named}{len(results)} requirements: {', '.join(parts)}{replayed}"
        )
    for site, lines in run.result.requests.items():
        named = f"{site}: " if run.several else ""
        for line in lines:
            terminalreporter.write_line(f"accord: {named}{line}")
    for failed in run.failed_by_site:
        named = f"{failed.site}: " if run.several else ""
        terminalreporter.write_line(f"accord: {named}{progress_line(failed)}", red=True)
    said = caveat(run.result.target, run.result.replayed_from)
    if said:
        terminalreporter.write_line(f"accord: {said}.", yellow=True, bold=True)
    for problem in run.problems:
        terminalreporter.write_line(problem, red=True, bold=True)
    if not run.problems:
        terminalreporter.write_line(f"accord: reports in {run.folder}/")
