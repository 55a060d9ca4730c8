"""BeyondTrust certificate actions: creating a self-signed certificate (BT-02)."""

from __future__ import annotations

from cryptography import x509
from pytest_bdd import parsers, then, when

from accord.beyondtrust.client import CertificateForm
from accord.pki import public_key_info, san_names
from steps.beyondtrust.certificate_actions.scenario import KEY_SIZE, BtAct, certificate_form, names


def _create_self_signed(bt_act: BtAct, form: CertificateForm) -> None:
    bt_act.form = form
    bt_act.created = bt_act.attempt(
        "create a self-signed certificate",
        lambda: bt_act.scratch.client.create_self_signed(bt_act.name, form),
    )


@when(
    parsers.parse(
        "a self-signed certificate is created with the guide's example subject name and the "
        'alternative names "{first}" and "{second}"'
    )
)
def create_example(bt_act: BtAct, first: str, second: str) -> None:
    _create_self_signed(bt_act, certificate_form(alternative_names=names(first, second)))


@when(parsers.parse('a self-signed certificate is created with the country "{country}"'))
def create_country(bt_act: BtAct, country: str) -> None:
    _create_self_signed(bt_act, certificate_form(country=country))


@when(
    parsers.parse(
        'a self-signed certificate is created with the common name "{common_name}" and the '
        'alternative names "{first}" and "{second}"'
    )
)
def create_fqdn_cn(bt_act: BtAct, common_name: str, first: str, second: str) -> None:
    _create_self_signed(
        bt_act, certificate_form(common_name=common_name, alternative_names=names(first, second))
    )


@then("Security :: Certificates lists it under its friendly name, issued to and by its common name")
def created_listed(bt_act: BtAct) -> None:
    assert bt_act.created is not None, f"it was refused: {bt_act.error}"
    assert bt_act.form is not None
    row = bt_act.row(bt_act.created.certificate)
    bt_act.observe(
        "listed",
        {
            "friendly_name": row.friendly_name,
            "issued_to": row.issued_to,
            "issued_by": row.issued_by,
        },
    )
    assert row.friendly_name == bt_act.form.friendly_name
    assert row.issued_to == row.issued_by == bt_act.form.common_name


@then(
    "its subject name holds the country, state, city, organization, organizational unit and "
    "common name entered"
)
def created_subject(bt_act: BtAct) -> None:
    assert bt_act.created is not None and bt_act.form is not None
    subject = bt_act.created.certificate.subject
    wanted = {
        x509.NameOID.COUNTRY_NAME: bt_act.form.country,
        x509.NameOID.STATE_OR_PROVINCE_NAME: bt_act.form.state,
        x509.NameOID.LOCALITY_NAME: bt_act.form.city,
        x509.NameOID.ORGANIZATION_NAME: bt_act.form.organization,
        x509.NameOID.ORGANIZATIONAL_UNIT_NAME: bt_act.form.unit,
        x509.NameOID.COMMON_NAME: bt_act.form.common_name,
    }
    for oid, value in wanted.items():
        got = [str(a.value) for a in subject.get_attributes_for_oid(oid)]
        assert got == [value], f"{oid._name}: {got} in {subject.rfc4514_string()}, not {value!r}"


@then("its key is the size chosen")
def created_key_size(bt_act: BtAct) -> None:
    assert bt_act.created is not None
    kind, bits = public_key_info(bt_act.created.certificate)
    assert (kind, bits) == ("RSA", KEY_SIZE), f"its key is {kind} {bits}"


@then(parsers.parse('its alternative names are "{first}" and "{second}", the wildcard included'))
def created_sans(bt_act: BtAct, first: str, second: str) -> None:
    assert bt_act.created is not None
    assert san_names(bt_act.created.certificate) == [first, second]
    assert list(bt_act.created.alternative_names) == [first, second]


@then("it has a private key")
def created_has_key(bt_act: BtAct) -> None:
    assert bt_act.created is not None
    assert bt_act.row(bt_act.created.certificate).private_key, '"Private Key?" is No'
