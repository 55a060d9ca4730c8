"""Certificate alarms, derived from the state at every read (never stored by the API).

A node without a TLS certificate (error), a node certificate whose chain of trust does not
reach a root through its own chain and the trusted CA list (warning), and every TLS or trusted
CA certificate that expires within 30 days (warning) or has expired (error; the guide: "An
alarm is raised on the Management Node"). Names and levels INFERRED; ``details`` use the guide's
wording.

Faults: TLS-13 (each kind of alarm left out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from simulator.pexip import certdata
from simulator.pexip import faults as f
from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
    TLS_CERTIFICATE,
)
from simulator.pexip.certificates.common import (
    NO_FAULTS,
    Faults,
    chain_of,
    leaf_of,
    node_rows,
)
from simulator.pexip.fields import format_time
from simulator.pexip.resources import MANAGEMENT_VM
from simulator.pexip.state import State

# Alarms (names and levels INFERRED; ``details`` use the guide's wording).
ALARM_NO_CERTIFICATE = "tls_certificate_missing"
ALARM_INCOMPLETE_CHAIN = "tls_certificate_chain_incomplete"
ALARM_TLS_EXPIRING = "tls_certificate_expiring"
ALARM_TLS_EXPIRED = "tls_certificate_expired"
ALARM_CA_EXPIRING = "ca_certificate_expiring"
ALARM_CA_EXPIRED = "ca_certificate_expired"
ALARM_NAMES = (
    ALARM_NO_CERTIFICATE,
    ALARM_INCOMPLETE_CHAIN,
    ALARM_TLS_EXPIRING,
    ALARM_TLS_EXPIRED,
    ALARM_CA_EXPIRING,
    ALARM_CA_EXPIRED,
)
EXPIRY_WARNING = dt.timedelta(days=30)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm the state calls for."""

    name: str
    level: str
    instance: str
    node: str
    details: str


def certificate_alarms(
    state: State, now: dt.datetime, faults: Faults = NO_FAULTS
) -> list[AlarmSpec]:
    """The certificate alarms of the current state at time ``now`` (INFERRED names/levels;
    ``node`` is the affected node's IPv4 address, or the primary Management Node's for
    certificate expiry — the guide: "An alarm is raised on the Management Node")."""
    out: list[AlarmSpec] = []
    tls_rows = state.table(TLS_CERTIFICATE).rows
    ca_rows = state.table(CA_CERTIFICATE).rows
    cas = [leaf_of(r) for _, r in sorted(ca_rows.items())]
    for kind, _key, node in node_rows(state):
        label = f"{kind} {node['name']}"
        if node["tls_certificate"] is None:
            out.append(
                AlarmSpec(
                    ALARM_NO_CERTIFICATE,
                    "error",
                    node["name"],
                    node["address"],
                    f"The {label} has no associated TLS certificate.",
                )
            )
            continue
        row = tls_rows[node["tls_certificate"]]
        if not certdata.chain_complete(leaf_of(row), [*chain_of(row), *cas]):
            out.append(
                AlarmSpec(
                    ALARM_INCOMPLETE_CHAIN,
                    "warning",
                    node["name"],
                    node["address"],
                    f"The TLS certificate {row['subject_name']} of the {label} has an "
                    "incomplete chain of trust to the root CA certificate.",
                )
            )
    managers = state.table(MANAGEMENT_VM).rows
    primary = next((r["address"] for _, r in sorted(managers.items()) if r["primary"]), "")
    for rdef, rows, what, names in (
        (TLS_CERTIFICATE, tls_rows, "TLS", (ALARM_TLS_EXPIRING, ALARM_TLS_EXPIRED)),
        (CA_CERTIFICATE, ca_rows, "trusted CA", (ALARM_CA_EXPIRING, ALARM_CA_EXPIRED)),
    ):
        for key, row in sorted(rows.items()):
            end = certdata.not_after(leaf_of(row))
            instance = f"{rdef.name}/{key}"
            subject = row["subject_name"] or row["raw_subject"]
            if end <= now:
                out.append(
                    AlarmSpec(
                        names[1],
                        "error",
                        instance,
                        primary,
                        f"The {what} certificate {subject} has expired (on {format_time(end)}).",
                    )
                )
            elif end - now <= EXPIRY_WARNING:
                out.append(
                    AlarmSpec(
                        names[0],
                        "warning",
                        instance,
                        primary,
                        f"The {what} certificate {subject} is due to expire within the next "
                        f"30 days (on {format_time(end)}).",
                    )
                )
    dropped = {
        name
        for fault, names in (
            (f.TLS13_NO_MISSING_CERTIFICATE_ALARM, (ALARM_NO_CERTIFICATE,)),
            (f.TLS13_NO_INCOMPLETE_CHAIN_ALARM, (ALARM_INCOMPLETE_CHAIN,)),
            (f.TLS13_NO_EXPIRY_ALARM, ALARM_NAMES[2:]),
        )
        if fault in faults
        for name in names
    }
    return [alarm for alarm in out if alarm.name not in dropped]
