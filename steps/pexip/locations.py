"""Steps for the locations' DSCP tags and MTU."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from accord import inventory
from accord.deviations import deviation
from accord.pexip import baseline
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, locations_of, requirement_tags

Obj = dict[str, Any]


@given("every location of the primary deployment", target_fixture="locations")
def locations(systems: Systems) -> list[Obj]:
    return locations_of(systems, "primary")


@then(parsers.parse("every location's \"{label}\" is the guide's value"))
def every_location(
    request: pytest.FixtureRequest,
    locations: list[Obj],
    label: str,
    site: Site,
    observe: Observe,
) -> None:
    """The value the deployer applies is the site file's; where it differs from the guide's,
    the evidence shows both and the scenario fails unless a waiver records the deviation
    (`accord.deviations`)."""
    field = baseline.LOCATION_LABELS[label]
    expected = baseline.location_fields(site.pexip)[field]
    actual = {inventory.label(loc, locations): loc.get(field) for loc in locations}
    found = [deviation(site, r) for r in requirement_tags(request.node)]
    deviating = next((d for d in found if d is not None), None)
    observe(
        f"every location: {label} ({field})",
        {
            "guide": deviating.guide if deviating else expected,
            "site": expected,
            "observed": actual,
            **({"deviation": deviating.describe()} if deviating else {}),
        },
    )
    wrong = {name: value for name, value in actual.items() if value != expected}
    assert locations, "the deployment has no locations"
    assert not wrong, f'"{label}" is not {expected} in location(s) {wrong}'
    assert deviating is None or deviating.waiver is not None, (
        f'"{label}": {deviating.describe()}; the site file chooses {deviating.site} where the '
        f"guide says {deviating.guide}: record the deviation in a waiver, or use the guide's"
    )
