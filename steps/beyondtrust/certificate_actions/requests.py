"""BeyondTrust certificate actions: creating a certificate signing request (BT-03)."""

from __future__ import annotations

from cryptography import x509
from pytest_bdd import parsers, then, when

from accord.pki import load_csr, san_names
from steps.beyondtrust.certificate_actions.scenario import BtAct, certificate_form, names


@when(
    parsers.parse(
        "a certificate request is created with the guide's example subject name and the "
        'alternative names "{first}" and "{second}"'
    )
)
def create_request(bt_act: BtAct, first: str, second: str) -> None:
    bt_act.form = certificate_form(
        friendly_name="Accord request", alternative_names=names(first, second)
    )
    form = bt_act.form
    bt_act.request = bt_act.attempt(
        "create a certificate request",
        lambda: bt_act.scratch.client.create_request(bt_act.name, form),
    )


@then("the certificate requests list it with its subject, its alternative names and a fingerprint")
def request_listed(bt_act: BtAct) -> None:
    assert bt_act.request is not None, f"it was refused: {bt_act.error}"
    assert bt_act.form is not None
    listed = [r for r in bt_act.scratch.client.requests(bt_act.name) if r.id == bt_act.request.id]
    assert listed, "the certificate requests do not list it"
    row = listed[0]
    bt_act.observe(
        "request",
        {"subject": row.subject, "names": row.alternative_names, "fingerprint": row.fingerprint},
    )
    assert f"CN={bt_act.form.common_name}" in row.subject, row.subject
    assert list(row.alternative_names) == list(bt_act.form.alternative_names)
    assert row.fingerprint, "it shows no fingerprint"


@then("its request data is a PEM certificate request for that subject and those alternative names")
def request_pem(bt_act: BtAct) -> None:
    assert bt_act.request is not None and bt_act.form is not None
    data = bt_act.request.request_data
    assert data.lstrip().startswith("-----BEGIN CERTIFICATE REQUEST-----"), "not PEM"
    csr = load_csr(data)
    assert csr.is_signature_valid, "its signature does not verify"
    cn = [str(a.value) for a in csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    assert cn == [bt_act.form.common_name], f"it requests {csr.subject.rfc4514_string()}"
    assert san_names(csr) == list(bt_act.form.alternative_names)


@then("the request data holds no private key")
def request_no_key(bt_act: BtAct) -> None:
    assert bt_act.request is not None
    data = bt_act.request.request_data
    assert "PRIVATE KEY" not in data, "the request data carries a private key"
    assert data.count("-----BEGIN ") == 1, "the request data holds more than the request"
