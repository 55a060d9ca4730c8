"""Where the site file chooses another value than the guide states, and whether a waiver
records it.

Most of what the site file says is the site's to choose ("site value" in the catalogue: the
SIP ports, the session limits, the login banner...). For a few requirements the guide itself
states the value (every location's media DSCP 51, signalling DSCP 40, MTU 1400); the site file
may still say otherwise, and the deployer then applies the site's value. Verifying against the
site's value alone would report the requirement passed under the guide's words: so a site value
that differs from the guide's is a deviation, shown with the guide's and the site's value, and
the requirement is not passed unless a waiver in force records it (it is then "waived").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accord.site import Site, Waiver


@dataclass(frozen=True)
class GuideValue:
    """A value the guide states for a requirement, and where the site file sets it."""

    requirement: str
    key: str  # the site file's key
    guide: Any
    read: Callable[[Site], Any]


GUIDE_VALUES: tuple[GuideValue, ...] = (
    GuideValue("LOC-01", "pexip.locations.media_dscp", 51, lambda s: s.pexip.locations.media_dscp),
    GuideValue(
        "LOC-02", "pexip.locations.signalling_dscp", 40, lambda s: s.pexip.locations.signalling_dscp
    ),
    GuideValue("LOC-03", "pexip.locations.mtu", 1400, lambda s: s.pexip.locations.mtu),
)


@dataclass(frozen=True)
class Deviation:
    """The site's value where the guide states another, and the waiver recording it (if any)."""

    requirement: str
    key: str
    guide: Any
    site: Any
    waiver: Waiver | None

    def describe(self) -> str:
        said = f"{self.requirement}: guide {self.guide}, site {self.site} ({self.key})"
        if self.waiver is None:
            return f"{said}: a deviation no waiver records"
        return (
            f"{said}: waived by {self.waiver.approver} until {self.waiver.expires.isoformat()} "
            f"({self.waiver.reason})"
        )


def deviation(site: Site, requirement: str, today: dt.date | None = None) -> Deviation | None:
    """The site's deviation from the guide's value for ``requirement``; None when it has none
    (or the guide states no value for it). ``today``: which waivers are in force (UTC)."""
    today = today or dt.datetime.now(dt.UTC).date()
    for value in GUIDE_VALUES:
        if value.requirement != requirement:
            continue
        chosen = value.read(site)
        if chosen == value.guide:
            return None
        waiver = next(
            (w for w in site.model.waivers if w.id == requirement and w.date <= today <= w.expires),
            None,
        )
        return Deviation(requirement, value.key, value.guide, chosen, waiver)
    return None


def deviations(site: Site, today: dt.date | None = None) -> list[Deviation]:
    """Every deviation of the site from a value the guide states."""
    found = [deviation(site, v.requirement, today) for v in GUIDE_VALUES]
    return [d for d in found if d is not None]
