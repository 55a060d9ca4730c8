"""Certificate actions: the alarms a missing certificate, an incomplete chain and an expiring
certificate raise (TLS-13).
"""

from __future__ import annotations

import datetime as dt

from pytest_bdd import then, when

from accord.pki import CA
from steps.common import Observe
from steps.pexip.certificate_actions.scenario import Act, Obj

# INFERRED alarm names (the guide gives only their wording; see ../shared/pexip-api.md).
ALARM_NO_CERTIFICATE = "tls_certificate_missing"
ALARM_INCOMPLETE_CHAIN = "tls_certificate_chain_incomplete"
ALARMS_EXPIRING = {"tls_certificate_expiring", "ca_certificate_expiring"}


def _alarms(act: Act, observe: Observe) -> list[Obj]:
    alarms = act.scratch.alarms()
    observe("alarms", [{k: a.get(k) for k in ("name", "node", "details")} for a in alarms])
    return alarms


@when("a Conferencing Node's certificate is removed")
def remove_node_certificate(act: Act) -> None:
    node = act.a_conferencing_node()
    act.record(act.scratch.assign(node, None), f"remove {node['name']}'s certificate")


@then("an alarm says that node has no certificate")
def alarm_no_certificate(act: Act, observe: Observe) -> None:
    assert act.node is not None
    names = [(a["name"], a.get("node")) for a in _alarms(act, observe)]
    assert (ALARM_NO_CERTIFICATE, act.node["address"]) in names, f"alarms: {names}"


@when("a certificate from an issuer that is not trusted is assigned to a Conferencing Node")
def assign_untrusted(act: Act) -> None:
    leaf = act.new_leaf("untrusted")
    upload = act.record(act.scratch.upload_certificate(leaf.cert_pem, leaf.key_pem()), "upload")
    assert upload.accepted, upload.error_text()
    node = act.a_conferencing_node()
    act.record(act.scratch.assign(node, upload.uri), f"assign to {node['name']}")


@then("an alarm says the chain of trust is incomplete")
def alarm_incomplete(act: Act, observe: Observe) -> None:
    assert act.node is not None
    names = [(a["name"], a.get("node")) for a in _alarms(act, observe)]
    assert (ALARM_INCOMPLETE_CHAIN, act.node["address"]) in names, f"alarms: {names}"


@when("a trusted CA certificate that expires in 20 days is uploaded", target_fixture="expiring_ca")
def upload_expiring_ca(act: Act) -> str:  # its subject
    now = dt.datetime.now(dt.UTC)
    root = CA.new(
        act.scratch.name("expiring-root"),
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=20),
    )
    act.record(act.scratch.upload_ca(root.cert_pem), "upload trusted CA")
    return root.cert.subject.rfc4514_string()


@then("an alarm says a certificate expires within 30 days")
def alarm_expiring(act: Act, expiring_ca: str, observe: Observe) -> None:
    alarms = _alarms(act, observe)
    subject = expiring_ca.removeprefix("CN=")
    hits = [
        a for a in alarms if a["name"] in ALARMS_EXPIRING and subject in (a.get("details") or "")
    ]
    assert hits, f"no expiry alarm names {subject}"
