"""Steps for the Contingency deployment section."""

from __future__ import annotations

from pytest_bdd import parsers, then

from accord.deployer import pexip as planner
from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.site import Site
from steps.common import Observe

# The guide's exceptions: local admin kept, no certificate-based login, no licensing.
EXCEPTIONS = {("authentication", "source"), ("authentication", "client_certificate")}


@then("it follows the same baseline as the primary deployment, apart from the listed exceptions")
def mirrors_baseline(contingency: Deployment, site: Site, observe: Observe) -> None:
    """Compared with the site's baseline, which the primary must meet too (never written)."""
    plan = planner.plan(contingency.client, site, contingency.name, contingency=True)
    differences = []
    for change in plan.changes:
        if change.resource == "licence":
            continue  # "deployed without licensing": its own scenario
        fields = [fc for fc in change.fields if (change.resource, fc.field) not in EXCEPTIONS]
        differences += [f"{change.label}: {fc.describe()}" for fc in fields]
    observe(f"{contingency.name}: differences from the baseline", differences)
    assert not differences, "the contingency deployment differs: " + "; ".join(differences)


@then(parsers.parse('its "{label}" is "{choice}"'))
def its_choice(contingency: Deployment, label: str, choice: str, observe: Observe) -> None:
    field = baseline.AUTHENTICATION_LABELS[label]
    value = contingency.authentication().get(field)
    observe(f"{contingency.name}: {label} ({field})", value)
    assert value == baseline.choice_value(field, choice), (
        f'"{label}" is {baseline.choice_label(field, value)} on {contingency.name}; '
        f"the guide: {choice}"
    )


@then("it has no licenses")
def no_licences(contingency: Deployment, observe: Observe) -> None:
    licences = [licence["resource_uri"] for licence in contingency.licences()]
    observe(f"{contingency.name}: licences", licences)
    assert not licences, f"{contingency.name} has licence(s) {licences}; the guide: none"
