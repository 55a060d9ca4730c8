"""Attestations: what no API can read, stated by a named person on a date, until it expires.

A scenario for such a requirement ends in `attest()`: with a valid attestation in the site file
it is reported skipped with the words "attested: ..." and the facts (never passed); with none,
or an expired one, it fails.
"""

from __future__ import annotations

import datetime as dt

from accord.site import Attestation, Site


class AttestationMissing(AssertionError):
    """The site file has no valid attestation for a requirement."""


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def find(site: Site, requirement: str, on: dt.date | None = None) -> Attestation:
    """The site's attestation of ``requirement``, valid ``on`` (default today, UTC);
    `AttestationMissing` says why there is none."""
    day = on or today()
    for attestation in site.model.attestations:
        if attestation.id != requirement:
            continue
        if attestation.expires < day:
            raise AttestationMissing(
                f"the attestation of {requirement} by {attestation.by} expired on "
                f"{attestation.expires.isoformat()}"
            )
        if attestation.date > day:
            raise AttestationMissing(
                f"the attestation of {requirement} is dated {attestation.date.isoformat()}, "
                "in the future"
            )
        return attestation
    raise AttestationMissing(
        f"no attestation of {requirement} in the site file ([[attestations]] with id, "
        "statement, by, date, expires)"
    )


def describe(attestation: Attestation) -> str:
    """The words a report shows for an attested requirement."""
    return (
        f"attested: {attestation.statement} (by {attestation.by} on "
        f"{attestation.date.isoformat()}, expires {attestation.expires.isoformat()})"
    )
