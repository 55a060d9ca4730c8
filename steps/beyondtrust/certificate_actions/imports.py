"""BeyondTrust certificate actions: importing certificates, keys and signed requests (BT-04)."""

from __future__ import annotations

from collections.abc import Callable

from pytest_bdd import given, parsers, then, when

from accord.pki import LeafCert, certificate_to_der, private_key_pem, to_pem, to_pkcs7, to_pkcs12
from accord.site import Secret
from steps.beyondtrust.certificate_actions.scenario import BtAct, certificate_form, subject_of


@given("a server certificate issued by the test certificate authority")
def server_certificate(bt_act: BtAct) -> None:
    bt_act.leaf = bt_act.ca.issue_cert("support.example.org", "*.example.org", key_type="rsa")
    bt_act.cert = bt_act.leaf.cert


_ENCODINGS: dict[str, Callable[[LeafCert], bytes]] = {
    "DER-encoded X.509": lambda leaf: certificate_to_der(leaf.cert),
    "PEM-wrapped DER-encoded X.509": lambda leaf: leaf.cert_pem.encode("ascii"),
    "DER-encoded PKCS #7": lambda leaf: to_pkcs7([leaf.cert], encoding="der"),
}


@when(parsers.parse('it is imported as the file "{filename}" in {encoding}'))
def import_as(bt_act: BtAct, filename: str, encoding: str) -> None:
    assert bt_act.leaf is not None
    bt_act.import_file(f"import {filename}", _ENCODINGS[encoding](bt_act.leaf), filename)
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@then("Security :: Certificates lists it, without a private key")
def listed_without_key(bt_act: BtAct) -> None:
    assert bt_act.cert is not None
    assert not bt_act.row(bt_act.cert).private_key, '"Private Key?" is Yes'


@then("Security :: Certificates lists it, with a private key")
def listed_with_key(bt_act: BtAct) -> None:
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"
    assert bt_act.cert is not None
    assert bt_act.row(bt_act.cert).private_key, '"Private Key?" is No'


def _pkcs12(bt_act: BtAct) -> bytes:
    leaf = bt_act.leaf
    assert leaf is not None
    chain = [*leaf.chain[1:], leaf.root]
    return to_pkcs12(leaf.key, leaf.cert, chain, passphrase=bt_act.passphrase.reveal())


@when("its PKCS#12 file with its private key and chain is imported with a wrong password")
def import_p12_wrong(bt_act: BtAct) -> None:
    bt_act.import_file(
        "import PKCS#12, wrong password", _pkcs12(bt_act), "server.p12", Secret("wrong")
    )


@when("its PKCS#12 file with its private key and chain is imported with its password")
def import_p12(bt_act: BtAct) -> None:
    bt_act.import_file("import PKCS#12", _pkcs12(bt_act), "server.p12", bt_act.passphrase)


@then("Security :: Certificates lists its intermediate and root certificates")
def chain_listed(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    for cert in (*bt_act.leaf.chain[1:], bt_act.leaf.root):
        bt_act.row(cert)


_NOT_CERTIFICATES: dict[str, Callable[[BtAct], tuple[bytes, str]]] = {
    "a file of garbage": lambda _act: (b"this is not a certificate\x00\xff" * 8, "garbage.crt"),
    "a truncated DER certificate": lambda act: (
        certificate_to_der(act.ca.issue_cert("support.example.org").cert)[:200],
        "truncated.der",
    ),
    "a private key without its certificate": lambda act: (
        private_key_pem(act.ca.issue_cert("support.example.org").key).encode("ascii"),
        "server.key",
    ),
}


@when(
    parsers.re(
        r"(?P<what>a file of garbage|a truncated DER certificate"
        r"|a private key without its certificate) is imported"
    )
)
def import_not_certificate(bt_act: BtAct, what: str) -> None:
    data, filename = _NOT_CERTIFICATES[what](bt_act)
    bt_act.import_file(f"import {what}", data, filename)


@given(parsers.parse('a certificate request created on the appliance for "{hostname}"'))
def request_for(bt_act: BtAct, hostname: str) -> None:
    form = certificate_form(friendly_name="Accord request", alternative_names=(hostname,))
    bt_act.request = bt_act.scratch.client.create_request(bt_act.name, form)


@when("the certificate authority signs the request data and the signed certificate is imported")
def sign_and_import(bt_act: BtAct) -> None:
    assert bt_act.request is not None
    cert = bt_act.ca.sign_csr(bt_act.request.request_data)
    bt_act.cert = cert
    for index, item in enumerate((cert, *bt_act.ca.path)):
        bt_act.import_file(
            f"import {subject_of(item)}", to_pem(item).encode("ascii"), f"c{index}.crt"
        )
        assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@then("the certificate request is no longer pending")
def request_gone(bt_act: BtAct) -> None:
    assert bt_act.request is not None
    pending = [r.id for r in bt_act.scratch.client.requests(bt_act.name)]
    assert bt_act.request.id not in pending, "the certificate request is still pending"


@then("it can be made the default")
def can_be_default(bt_act: BtAct) -> None:
    assert bt_act.cert is not None
    row = bt_act.row(bt_act.cert)
    made = bt_act.attempt(
        "make it the default", lambda: bt_act.scratch.client.set_default(bt_act.name, row.id)
    )
    assert made is not None and made.default, f"it cannot be made the default: {bt_act.error}"
    assert bt_act.served(None).fingerprint == row.fingerprint, "the default is not served"
