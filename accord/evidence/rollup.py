"""One status per requirement, from its scenarios and the site's waivers and attestations.

A requirement takes the worst status of the scenarios tagged with its ID (``PRECEDENCE``:
failed, error, not run, not applicable, waived, attested, passed); with no scenario it is
"not run" ("no scenario ran"). On top of that:

- a waiver in force (``date`` <= today <= ``expires``) makes it "waived", whatever its
  scenarios say (they stay listed, and the reason says what they showed); an expired waiver
  makes it "failed" ("waiver by X expired on D"); one dated in the future changes nothing yet;
- a requirement whose scenarios are attested carries the site's attestation; when that
  attestation is missing or has expired by ``today`` it is "failed" (a run already fails the
  scenario of a missing or expired attestation: this keeps a later roll-up of the same results
  honest).

Days are UTC calendar days, as in the site file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from accord.evidence.model import (
    AttestationRecord,
    RequirementResult,
    ScenarioResult,
    WaiverRecord,
    worst,
)
from accord.requirements import Requirement

NO_SCENARIO = "no scenario ran"


def rollup(
    scenarios: Iterable[ScenarioResult],
    catalogue: Mapping[str, Requirement],
    waivers: Iterable[WaiverRecord] = (),
    attestations: Iterable[AttestationRecord] = (),
    today: dt.date | None = None,
    site: str = "",
) -> list[RequirementResult]:
    """One result per catalogue requirement, in the catalogue's order (``today``: the UTC day
    waivers and attestations are judged on; default: now)."""
    day = today or dt.datetime.now(dt.UTC).date()
    ran = list(scenarios)
    waived = {w.id: w for w in waivers}
    attested = {a.id: a for a in attestations}
    return [
        requirement_result(
            requirement,
            [s for s in ran if requirement.id in s.requirements],
            waived.get(requirement.id),
            attested.get(requirement.id),
            day,
            site,
        )
        for requirement in catalogue.values()
    ]


def requirement_result(
    requirement: Requirement,
    scenarios: list[ScenarioResult],
    waiver: WaiverRecord | None,
    attestation: AttestationRecord | None,
    today: dt.date,
    site: str = "",
) -> RequirementResult:
    """One requirement's result from the scenarios carrying its ID and the site's waiver and
    attestation of it (if any)."""
    status = worst([s.status for s in scenarios])
    if not scenarios:
        reason: str | None = NO_SCENARIO
    elif status == "passed":
        reason = None
    else:
        reason = next(s.reason for s in scenarios if s.status == status) or status
    carried = attestation if any(s.status == "attested" for s in scenarios) else None
    if status == "attested":
        if attestation is None:
            status, reason = "failed", f"no attestation of {requirement.id} in the site file"
        elif attestation.expires < today:
            status, reason = (
                "failed",
                (
                    f"the attestation of {requirement.id} by {attestation.by} expired on "
                    f"{attestation.expires.isoformat()}"
                ),
            )
    if waiver is not None:
        if waiver.expires < today:
            status, reason = (
                "failed",
                (f"waiver by {waiver.approver} expired on {waiver.expires.isoformat()}"),
            )
        elif waiver.date <= today:
            shown = status if reason is None else f"{status}: {reason}"
            status, reason = (
                "waived",
                (
                    f"waived: {waiver.reason} (approved by {waiver.approver} on "
                    f"{waiver.date.isoformat()}, expires {waiver.expires.isoformat()}; "
                    f"without the waiver: {shown})"
                ),
            )
    return RequirementResult(
        requirement=requirement,
        status=status,
        reason=reason,
        scenarios=tuple(s.name for s in scenarios),
        waiver=waiver,
        attestation=carried,
        site=site,
    )
