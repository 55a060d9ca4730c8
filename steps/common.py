"""Shared steps: which deployment is being read, and how observations are recorded.

Steps call the Accord library only (`accord.pexip.deployment.Deployment`); they never see
HTTP or the simulator.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from pytest_bdd import given, then

from accord import attestations, inventory
from accord.http import ClientError
from accord.pexip.deployment import Deployment
from accord.probes import snmp
from accord.probes.wire import Probe, Wire
from accord.pytest import evidence
from accord.pytest.sites import RunSite
from accord.requirements import ID_PATTERN
from accord.site import Site
from accord.systems import Systems

Observe = Callable[[str, Any], None]
F = TypeVar("F", bound=Callable[..., Any])
# The probes a step will send, from the systems alone: started when the run begins.
Prefetch = Callable[[Systems], Iterable[Probe[Any]]]
PREFETCH: dict[str, Prefetch] = {}
REQUIREMENT = ID_PATTERN


@dataclass(frozen=True)
class Subject:
    """What a Then-step looks at: one object of the API and the guide's words for its fields."""

    name: str
    obj: dict[str, Any]
    labels: dict[str, str]

    def field(self, label: str) -> str:
        try:
            return self.labels[label]
        except KeyError:
            raise AssertionError(
                f"the guide's setting {label!r} is not known on {self.name}"
            ) from None

    def value(self, label: str) -> Any:
        return self.obj.get(self.field(label))


@pytest.fixture
def site(systems: Systems) -> Site:
    return systems.site


def probing(text: str, prefetch: Prefetch) -> Callable[[F], F]:
    """A Then-step that probes the wire: ``prefetch`` names the probes it will send, so that a
    run starts them with every other scenario's when it begins (`wire`)."""

    def decorate(step: F) -> F:
        PREFETCH[text] = prefetch
        return then(text, stacklevel=2)(step)

    return decorate


@pytest.fixture(scope="session")
def wire(request: pytest.FixtureRequest, systems: Systems, accord_site: RunSite) -> Iterator[Wire]:
    """The run's probes (`accord.probes.wire`): the first step that probes starts the probes of
    every selected scenario of this site at once, bounded by the site's ``[verification]
    concurrency``; each step then takes its results. Recording or replaying, each scenario
    sends its own."""
    share = systems.recorder is None
    found = Wire(systems.site.verification.concurrency, share=share)
    texts = {
        text
        for item in request.session.items
        if evidence.site_of(item) == accord_site
        for text in evidence.step_texts(item)
    }
    with snmp.shared_engines() if share else contextlib.nullcontext():
        try:
            for text in sorted(texts & PREFETCH.keys()):
                try:
                    found.start(PREFETCH[text](systems))
                except Exception:  # noqa: BLE001 - the step itself meets it, and fails with it
                    continue
            yield found
        finally:
            found.close()


def shown(
    what: str, objects: list[dict[str, Any]], declared: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """``objects`` as a system lists them, once `accord.pexip.inventory` finds nothing wrong:
    the step fails, naming them, when there are none, when a name is listed twice, or when the
    site ``declared`` others (nothing passes on nothing)."""
    problems = inventory.compare(what, inventory.names(objects), declared)
    if problems:
        pytest.fail("; ".join(problems))
    return objects


def nodes_of(systems: Systems, deployment: str) -> list[dict[str, Any]]:
    """The Management Node and every Conferencing Node of a deployment, checked against the
    nodes its site file declares (`shown`)."""
    found = Deployment(systems.pexip(deployment), f"pexip-{deployment}").nodes()
    declared = getattr(systems.site.systems.pexip, deployment).nodes
    return shown(f"nodes of pexip-{deployment}", found, declared)


def locations_of(systems: Systems, deployment: str) -> list[dict[str, Any]]:
    """Every location of a deployment, checked against the ones its site file declares."""
    found = Deployment(systems.pexip(deployment), f"pexip-{deployment}").locations()
    declared = getattr(systems.site.systems.pexip, deployment).locations
    return shown(f"locations of pexip-{deployment}", found, declared)


def shows_its_nodes(systems: Systems, deployment: str) -> None:
    """Fail, naming them, when a deployment shows none of the nodes its site file declares:
    then it is not the system the site describes, or its account cannot see it, and nothing
    read of it (global settings, roles, authentication...) can pass either."""
    declared = getattr(systems.site.systems.pexip, deployment).nodes
    if not declared:
        return
    try:
        found = inventory.names(Deployment(systems.pexip(deployment), deployment).nodes())
    except ClientError:
        return  # an answer that cannot be read fails the scenarios that read it, not these

    if not set(found) & set(declared):
        pytest.fail(
            f"pexip-{deployment} shows none of the nodes the site declares "
            f"({', '.join(declared)}; it shows {', '.join(found) or 'no node'}): not the "
            "deployment the site describes, or an account that cannot see it"
        )


@pytest.fixture
def primary(systems: Systems) -> Deployment:
    """The primary deployment's Management Node (which must show the site's nodes at all:
    `shows_its_nodes`)."""
    shows_its_nodes(systems, "primary")
    return Deployment(systems.pexip("primary"), "pexip-primary")


@pytest.fixture
def observe(
    request: pytest.FixtureRequest, record_property: Callable[[str, object], None]
) -> Observe:
    """Record what a step observed, redacted (`accord.pytest.evidence.observe`: the run's
    results.json, against the current step), and with the scenario's JUnit result."""

    def record(what: str, value: Any) -> None:
        shown = evidence.observe(request.node, what, value)
        record_property("observed", json.dumps({what: shown}))

    return record


def requirement_tags(node: pytest.Item) -> list[str]:
    """The requirement IDs a scenario is tagged with."""
    return sorted({m.name for m in node.iter_markers() if REQUIREMENT.match(m.name)})


@pytest.fixture(autouse=True)
def _observable(request: pytest.FixtureRequest) -> None:
    """A scenario of a requirement the site's primary system cannot show here (its
    ``not_observable``, e.g. dropped packets on a simulator without root) is reported "not
    run: <why>", never passed."""
    tags = [m.name for m in request.node.iter_markers() if REQUIREMENT.match(m.name)]
    if not tags:
        return  # not a scenario of the guides (our own tests)
    systems: Systems = request.getfixturevalue("systems")
    request.getfixturevalue("wire")  # the first scenario starts every scenario's probes
    reasons = systems.site.systems.pexip.primary.not_observable
    for tag in tags:
        if tag in reasons:
            pytest.skip(f"not run: {reasons[tag]}")


@then("the site file attests it")
def attested(request: pytest.FixtureRequest, site: Site, observe: Observe) -> None:
    """What no API can read: an unexpired attestation of the scenario's requirement makes the
    scenario "attested" (reported skipped with the facts, never passed); none, or an expired
    one, fails it."""
    requirements = sorted(
        {m.name for m in request.node.iter_markers() if REQUIREMENT.match(m.name)}
    )
    found = [attestations.find(site, requirement) for requirement in requirements]
    observe("attestations", [a.model_dump(mode="json") for a in found])
    pytest.skip("; ".join(attestations.describe(a) for a in found))


@given("the contingency deployment named in the site file", target_fixture="contingency")
def contingency(systems: Systems) -> Deployment:
    """The secondary deployment of the guide's "Contingency deployment" section."""
    if not systems.has("contingency"):
        pytest.skip("the site file names no contingency deployment ([systems.pexip.contingency])")
    shows_its_nodes(systems, "contingency")
    nodes_of(systems, "contingency")  # nothing about a deployment that shows none passes
    locations_of(systems, "contingency")
    return Deployment(systems.pexip("contingency"), "pexip-contingency")
