"""A hand-built run with every kind of row the report formats show: failed, waived, attested,
not run and passed requirements, served chains (complete, self-signed, expired) and a
secret that was redacted upstream."""

from __future__ import annotations

import datetime as dt

from accord.evidence.model import (
    AttestationRecord,
    InScope,
    Observation,
    Requirement,
    RequirementResult,
    RunResult,
    ScenarioResult,
    StepResult,
    WaiverRecord,
)
from accord.secrets import redact

# Given to the steps, it must never reach a file or the console: redact() replaces it.
CANARY = "canary-S3cr3t-7f1d2c"
STARTED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
ENDED = dt.datetime(2025, 3, 1, 9, 12, 30, tzinfo=dt.UTC)
PEXIP = "Pexip Infinity Secure Mode Deployment Guide"
BEYONDTRUST = "BeyondTrust PRA Hardening Guide"


def cert(subject: str, issuer: str, serial: str, not_after: dt.datetime) -> dict[str, str]:
    """A certificate as accord.probes.tls.describe records it."""
    return {
        "subject": subject,
        "issuer": issuer,
        "serial": serial,
        "not_after": not_after.isoformat(),
        "sha256": ":".join([serial.upper()[:2].rjust(2, "0")] * 32),
    }


ROOT = cert(
    "CN=Lab Root CA,O=Example Lab", "CN=Lab Root CA,O=Example Lab", "a1", STARTED.replace(year=2045)
)
INTERMEDIATE = cert(
    "CN=Lab Issuing CA,O=Example Lab",
    "CN=Lab Root CA,O=Example Lab",
    "b2",
    STARTED.replace(year=2030),
)
LEAF = cert(
    "CN=conf01.example.com,O=Example",
    "CN=Lab Issuing CA,O=Example Lab",
    "c3",
    STARTED + dt.timedelta(days=20),
)
EXPIRED = cert(
    "CN=BeyondTrust Appliance", "CN=BeyondTrust Appliance", "d4", STARTED - dt.timedelta(days=40)
)


def handshake(chain: list[dict[str, str]], where: str, sni: str) -> dict[str, object]:
    """A handshake as accord.probes.tls.Handshake.observation records it."""
    return {
        "connected_to": where,
        "sni": sni,
        "protocol": "TLSv1.2",
        "cipher": "ECDHE-RSA-AES256-GCM-SHA384",
        "served_chain": chain,
        "error": None,
    }


def requirement(
    id_: str, text: str, guide: str, section: str, proof: str = "config"
) -> Requirement:
    return Requirement(
        id_,
        text,
        proof,
        guide,
        section,
        stig=("V-0001",),
        nist=("SC-8",),
        sees=f"what {id_}'s scenarios read",
        cannot_see=f"what {id_}'s scenarios cannot reach",
    )


def scenario(
    name: str,
    ids: tuple[str, ...],
    status: str,
    reason: str | None,
    observations: tuple[Observation, ...] = (),
) -> ScenarioResult:
    steps = (
        StepResult("Given", "the Management Node named in the site file", "passed", 0.12),
        StepResult("Then", name.lower(), "failed" if status == "failed" else "passed", 0.4),
    )
    return ScenarioResult(
        feature="features/pexip/sample.feature",
        name=name,
        requirements=ids,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        steps=steps,
        observations=observations,
        started=STARTED + dt.timedelta(minutes=1),
        duration=0.52,
        site="lab",
    )


def observation(what: str, value: object) -> Observation:
    return Observation(
        step="Then every node serves a certificate",
        what=what,
        value=redact(value),
        at=STARTED + dt.timedelta(minutes=2),
    )


WAIVER = WaiverRecord(
    "SNMP-02",
    "The monitoring platform only speaks SNMPv2c until <Q3> & its upgrade",
    "A. Approver",
    dt.date(2025, 1, 10),
    dt.date(2025, 6, 30),
)
OLD_WAIVER = WaiverRecord(
    "SNMP-03", "Legacy poller", "B. Approver", dt.date(2024, 1, 10), dt.date(2025, 2, 1)
)
ATTESTATION = AttestationRecord(
    "SECW-09",
    "The hypervisor's console is reachable only from the management VLAN",
    "C. Operator",
    dt.date(2025, 2, 1),
    dt.date(2026, 2, 1),
)


def run() -> RunResult:
    tls = observation(
        "TLS listeners",
        {
            "conf01 HTTPS": handshake(
                [LEAF, INTERMEDIATE, ROOT], "192.0.2.11:443", "conf01.example.com"
            ),
            "conf01 SIP TLS": handshake(
                [LEAF, INTERMEDIATE], "192.0.2.11:5061", "conf01.example.com"
            ),
        },
    )
    appliance = observation(
        "primary (pra1.lab.example), access.lab.example",
        {
            **handshake([EXPIRED], "127.0.0.1:8443", "access.lab.example"),
            "leaf": {**EXPIRED, "alternative_names": [], "self_signed": True},
            "verified": False,
        },
    )
    snmp = observation(
        "SNMP agent",
        {"version": "v3", "user": "monitor", "auth_password": CANARY, "community": CANARY},
    )
    scenarios = [
        scenario(
            "Every node serves the site's certificate",
            ("CERT-01",),
            "failed",
            "conf01 HTTPS: the chain is incomplete (<b>not bold</b>)",
            (tls,),
        ),
        scenario(
            "The appliance serves the site's certificate",
            ("BT-13",),
            "failed",
            "expired",
            (appliance,),
        ),
        scenario("SNMPv3 only", ("SNMP-01",), "passed", None, (snmp,)),
        scenario("No SNMPv2c community", ("SNMP-02",), "waived", "waived: SNMP-02 by A. Approver"),
        scenario(
            "Expired waiver", ("SNMP-03",), "failed", "the waiver of SNMP-03 expired on 2025-02-01"
        ),
        scenario("Console access", ("SECW-09",), "attested", "attested: SECW-09 by C. Operator"),
    ]
    requirements = [
        RequirementResult(
            requirement(
                "CERT-01",
                "Nodes serve the site's CA-signed certificate",
                PEXIP,
                "Certificates",
                "wire",
            ),
            "failed",
            scenarios[0].reason,
            (scenarios[0].name,),
            site="lab",
        ),
        RequirementResult(
            requirement("SNMP-01", "SNMP is v3 with authentication and privacy", PEXIP, "SNMP"),
            "passed",
            None,
            (scenarios[2].name,),
            site="lab",
        ),
        RequirementResult(
            requirement("SNMP-02", "No SNMPv2c community is configured", PEXIP, "SNMP"),
            "waived",
            scenarios[3].reason,
            (scenarios[3].name,),
            waiver=WAIVER,
            site="lab",
        ),
        RequirementResult(
            requirement("SNMP-03", "SNMP traps go to the site's receiver", PEXIP, "SNMP"),
            "failed",
            scenarios[4].reason,
            (scenarios[4].name,),
            waiver=OLD_WAIVER,
            site="lab",
        ),
        RequirementResult(
            requirement("SECW-04", "Closed ports drop packets", PEXIP, "Secure deployment", "wire"),
            "not run",
            "not run: the simulator cannot drop packets to closed ports",
            (),
            site="lab",
        ),
        RequirementResult(
            requirement(
                "SECW-09", "Console access is restricted", PEXIP, "Secure deployment", "attest"
            ),
            "attested",
            scenarios[5].reason,
            (scenarios[5].name,),
            attestation=ATTESTATION,
            site="lab",
        ),
        RequirementResult(
            requirement(
                "BT-13", "The appliance serves a CA-signed certificate", BEYONDTRUST, "TLS", "wire"
            ),
            "failed",
            "expired",
            (scenarios[1].name,),
            site="lab",
        ),
    ]
    return RunResult(
        accord_version="0.1.0",
        site_name="lab",
        site_sha256="5" * 64,
        target="sim",
        started=STARTED,
        ended=ENDED,
        requirements=requirements,
        scenarios=scenarios,
        scope={"lab": SCOPE},
        scope_notes={"lab": ("beyondtrust: a real appliance has no API that tells its version",)},
    )


SCOPE = (
    InScope("Pexip deployment (Management Node API)", "primary", "https://mgr.example.com/", "37.0",
            "primary deployment"),
    InScope("Pexip Conferencing Node", "conf01", "conf01.example.com, 192.0.2.11", "37.0",
            "primary deployment"),
    InScope("vCenter", "VMware vCenter Server", "https://vcenter.example.com/sdk",
            "VMware vCenter Server 8.0.3", "runs the VMs"),
    InScope("ESXi host", "esx01", "", "VMware ESXi 8.0.3", "runs Pexip VMs"),
    InScope("VM", "pexip-conf01", "on esx01", "", "primary deployment, poweredOn"),
    InScope("BeyondTrust appliance", "pra1", "pra1.example.com:443", "", "primary"),
)  # fmt: skip
