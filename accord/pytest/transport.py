"""pytest-xdist: each worker hands the controller what it collected (every scenario, with its
result once finished; its sites' facts; what its targets found), and its reports keep
pytest-bdd's scenario context (for cucumber JSON) on the way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from dataclasses import asdict
from typing import Any

import pytest
from pytest_bdd.reporting import ReportContext, test_report_context_registry

from accord.evidence.model import jsonable, scenario_from_json
from accord.pytest.evidence import found_problems, not_reached
from accord.pytest.progress import announce
from accord.pytest.state import Run, SiteFacts, run_of

OUTPUT = "accord"  # the key of xdist's workeroutput this plugin uses
BDD_CONTEXT = "accord_pytest_bdd_context"  # pytest-bdd's report context, serialized


def worker_output(run: Run, config: pytest.Config) -> dict[str, Any]:
    """What a worker hands the controller: every scenario it collected in collection order,
    with its result when this worker finished it; its sites' facts; its targets' problems.
    JSON-able, as execnet carries it."""
    results = run.finished | not_reached(run, config)
    return {
        "scenarios": [
            [nodeid, nodeid in run.finished, jsonable(asdict(results[nodeid]))]
            for nodeid in run.items
        ],
        "sites": {name: facts.to_json() for name, facts in run.facts.items()},
        "replayed": run.replayed,
        "problems": found_problems(config),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller of an xdist run: merge what a worker that finished handed over, then say
    how each requirement stands whose every scenario has now finished."""
    config: pytest.Config = node.config
    run = run_of(config)
    output = getattr(node, "workeroutput", {}).get(OUTPUT)
    if run is None or output is None:
        return
    for nodeid, finished, data in output["scenarios"]:
        if finished:
            run.collected[nodeid] = scenario_from_json(data)
            run.done.add(nodeid)
        elif nodeid not in run.collected:
            run.collected[nodeid] = scenario_from_json(data)
    for name, facts in output["sites"].items():
        run.facts[name] = SiteFacts.from_json(facts)
    for key, sentences in output["replayed"].items():
        for sentence in sentences:
            run.remember_replay(key, sentence)
    run.target_problems.extend(output["problems"])
    totals: Counter[tuple[str, str]] = Counter()
    finished: Counter[tuple[str, str]] = Counter()
    for nodeid, scenario in run.collected.items():
        for requirement in scenario.requirements:
            totals[(scenario.site, requirement)] += 1
            finished[(scenario.site, requirement)] += nodeid in run.done
    run.expected = max(run.expected, len(totals))
    done = [run.collected[n] for n in run.collected if n in run.done]
    for key, total in totals.items():
        if finished[key] == total and key not in run.announced:
            site, requirement = key
            announce(config, run, site, requirement, [s for s in done if s.site == site])


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    config: pytest.Config, report: pytest.CollectReport | pytest.TestReport
) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
    """An xdist worker's report carries pytest-bdd's scenario context (cucumber JSON)."""
    data = yield
    context = test_report_context_registry.get(report)  # type: ignore[arg-type]
    if data is not None and context is not None:
        data[BDD_CONTEXT] = {"scenario": context.scenario, "name": context.name}
    return data


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(
    config: pytest.Config, data: dict[str, Any]
) -> Generator[None, Any, Any]:
    """The controller gives the report its pytest-bdd context back."""
    context = data.pop(BDD_CONTEXT, None)
    report = yield
    if context is not None and isinstance(report, pytest.TestReport):
        test_report_context_registry[report] = ReportContext(
            scenario=context["scenario"], name=context["name"]
        )
    return report
