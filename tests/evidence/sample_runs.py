"""Hand-built runs for the HDF and OSCAL writer tests: every requirement status across two guides,
and canaries in an observation (one in a secret field, redacted the way the caller redacts)."""

from __future__ import annotations

import datetime as dt

from accord.evidence.model import (
    AttestationRecord,
    Observation,
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    WaiverRecord,
    worst,
)
from accord.requirements import Requirement
from accord.secrets import redact

SECRET_CANARY = "canary-secret-7f3a9c51"  # in a `password` field: must never be written
VISIBLE_CANARY = "canary-visible-2b8e4d07"  # in a `value` field: written with the observations

SM = "Pexip Infinity Secure Mode Deployment Guide"
BT = "BeyondTrust Privileged Remote Access SSL Certificates"
TLS = "Pexip Infinity: Managing TLS and trusted CA certificates"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
RUN_DAY = T0.date()


def _req(rid, proof, guide, section="Platform settings", **kw) -> Requirement:
    text = f"{rid} requirement text from the guide. Second sentence."
    return Requirement(id=rid, text=text, proof=proof, guide=guide, section=section, **kw)


REQUIREMENTS = {
    "SNMP-01": _req(
        "SNMP-01",
        "wire",
        SM,
        section="Network services",
        stig=("VCSA-80-000253 (V-258931)", "ESXI-80-000212 (V-258767)"),
        nist=("IA-3(1)", "CM-6 b"),
        mapping="STIG",
    ),
    "SECW-04": _req("SECW-04", "wire", SM, nist=("SC-7", "CM-7")),
    "MGMT-01": _req("MGMT-01", "config", SM, nist=("CM-7", "SC-7")),
    "GLB-05": _req("GLB-05", "config", SM, nist=("SC-5",)),  # not run: no scenario carries it
    "IPV6-01": _req("IPV6-01", "config", SM, nist=("CM-6",)),  # not applicable
    "AUTH-01": _req("AUTH-01", "wire", SM, nist=("IA-2(12)", "AC-2"), mapping="STIG"),  # error
    "BIOS-03": _req("BIOS-03", "attest", SM, nist=("CM-6", "CM-5")),  # attested
    "TLS-01": _req("TLS-01", "wire", f"{SM}; {TLS}", nist=("SC-8", "SC-17"), mapping="STIG"),
    "BT-01": _req("BT-01", "act", BT, section="BeyondTrust appliance", nist=("SC-17",)),
    "BT-02": _req("BT-02", "config", BT, section="BeyondTrust appliance", nist=("SC-8",)),
    "BT-03": _req("BT-03", "config", BT, section="BeyondTrust appliance", nist=("IA-5(2)",)),
}

WAIVER = WaiverRecord(
    id="W-1",
    reason="replaced in the next maintenance window",
    approver="A. Approver",
    date=dt.date(2026, 1, 10),
    expires=dt.date(2026, 6, 30),
)
EXPIRED_WAIVER = WaiverRecord(
    id="W-2",
    reason="legacy clients",
    approver="A. Approver",
    date=dt.date(2025, 1, 10),
    expires=dt.date(2026, 1, 31),
)
ATTESTATION = AttestationRecord(
    id="AT-1",
    statement="The BIOS supervisor password is set on every host.",
    by="P. Operator",
    date=dt.date(2026, 2, 1),
    expires=dt.date(2027, 2, 1),
)

# scenario name -> (requirement IDs, status, reason)
SCENARIOS: dict[str, tuple[tuple[str, ...], Status, str | None]] = {
    "SNMPv3 authPriv answers": (("SNMP-01",), "passed", None),
    "A closed port drops the packet": (("SECW-04",), "failed", "the connection was reset"),
    "Incident reporting is off": (("MGMT-01",), "passed", None),
    "Incident reporting on every node": (("MGMT-01",), "not run", "not run: no node reachable"),
    "IPv6 is off": (("IPV6-01",), "not applicable", "not applicable: the site has no IPv6"),
    "LDAPS identity source": (("AUTH-01",), "error", "ConnectionError: directory down"),
    "The BIOS password": (("BIOS-03",), "attested", "attested: AT-1"),
    "The certificate chain": (("TLS-01", "SNMP-01"), "passed", None),
    "An expired certificate is refused": (("BT-01",), "passed", None),
    "The appliance cipher list": (("BT-02",), "failed", "offers TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    "The appliance TLS versions": (("BT-03",), "failed", "TLS 1.0 is offered"),
}

EXPECTED: dict[str, Status] = {
    "SNMP-01": "passed",
    "SECW-04": "failed",
    "MGMT-01": "not run",
    "GLB-05": "not run",
    "IPV6-01": "not applicable",
    "AUTH-01": "error",
    "BIOS-03": "attested",
    "TLS-01": "passed",
    "BT-01": "passed",
    "BT-02": "waived",
    "BT-03": "failed",  # its waiver expired
}


def observation(step: str) -> Observation:
    raw = {
        "request": {"host": "mgr.lab.example", "password": SECRET_CANARY},
        "value": VISIBLE_CANARY,
    }
    return Observation(step=step, what="mgr.lab.example", value=redact(raw), at=T0)


def sample_run() -> RunResult:
    scenarios = []
    for n, (name, (rids, status, reason)) in enumerate(SCENARIOS.items()):
        product = "beyondtrust" if rids[0].startswith("BT") else "pexip"
        scenarios.append(
            ScenarioResult(
                feature=f"features/{product}/x.feature",
                name=name,
                requirements=rids,
                status=status,
                reason=reason,
                steps=(),
                observations=(observation(f"Then {name.lower()}"),),
                started=T0 + dt.timedelta(seconds=10 * n),
                duration=1.25,
            )
        )
    results = []
    for rid, requirement in REQUIREMENTS.items():
        carried = [s for s in scenarios if rid in s.requirements]
        status = worst([s.status for s in carried])
        reason = next((s.reason for s in carried if s.status == status), None)
        waiver = attestation = None
        if rid == "BT-02":
            waiver, status, reason = WAIVER, "waived", f"waived: {WAIVER.reason}"
        if rid == "BT-03":
            waiver, reason = EXPIRED_WAIVER, "the waiver W-2 expired on 2026-01-31"
        if rid == "BIOS-03":
            attestation = ATTESTATION
        results.append(
            RequirementResult(
                requirement=requirement,
                status=status,
                reason=reason if status != "passed" else None,
                scenarios=tuple(s.name for s in carried),
                waiver=waiver,
                attestation=attestation,
            )
        )
    assert {r.requirement.id: r.status for r in results} == EXPECTED
    return RunResult(
        accord_version="0.1.0",
        site_name="lab",
        site_sha256="5" * 64,
        target="sim",
        started=T0,
        ended=T0 + dt.timedelta(minutes=3),
        requirements=results,
        scenarios=scenarios,
    )
