"""BeyondTrust certificate actions: exporting a certificate, its key and its chain (BT-06), and
the bundle for BeyondTrust Technical Support (BT-07).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pytest_bdd import given, then, when

from accord.beyondtrust.client import Certificate
from accord.pki import PkiError, fingerprint_sha256, from_pkcs7, from_pkcs12, key_matches
from steps.beyondtrust.certificate_actions.imports import import_p12, server_certificate
from steps.beyondtrust.certificate_actions.scenario import BtAct, subject_of

PRIVATE_KEY_FILES = (".p12", ".pfx", ".key")


@given("a server certificate with its private key and chain on the appliance")
def held_with_chain(bt_act: BtAct) -> None:
    server_certificate(bt_act)
    import_p12(bt_act)
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@given("it is the default")
def it_is_default(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    bt_act.scratch.client.set_default(bt_act.name, bt_act.row(bt_act.leaf.cert).id)


def _export(bt_act: BtAct, what: str, ids: list[int], **options: Any) -> None:
    options.setdefault("passphrase", None)
    exported = bt_act.attempt(
        what, lambda: bt_act.scratch.client.export(bt_act.name, ids, **options)
    )
    assert exported is not None, f"the export was refused: {bt_act.error}"
    bt_act.file = exported
    bt_act.observe(what, {"filename": exported[0], "bytes": len(exported[1])})


def _leaf_row(bt_act: BtAct) -> Certificate:
    assert bt_act.leaf is not None
    return bt_act.row(bt_act.leaf.cert)


@when("the certificate alone is exported")
def export_der(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act, "export the certificate", [row.id], include_private_key=False, include_chain=False
    )


@then("the file is DER holding just the server certificate")
def file_der(bt_act: BtAct) -> None:
    assert bt_act.file is not None and bt_act.leaf is not None
    cert = x509.load_der_x509_certificate(bt_act.file[1])
    assert cert == bt_act.leaf.cert, "the file holds another certificate"


@when("the private key alone is exported with a passphrase")
def export_key(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act,
        "export the private key",
        [row.id],
        include_certificate=False,
        include_private_key=True,
        include_chain=False,
        passphrase=bt_act.passphrase,
    )


def _load_key(data: bytes, password: bytes | None) -> PrivateKeyTypes:
    try:
        return serialization.load_der_private_key(data, password)
    except ValueError:
        return serialization.load_pem_private_key(data, password)


def _opens(load: Callable[[], object]) -> bool:
    try:
        load()
    except (ValueError, TypeError, PkiError):
        return False
    return True


@then(
    "the file is a PKCS#8 private key that opens only with the passphrase and pairs with the "
    "certificate"
)
def file_pkcs8(bt_act: BtAct) -> None:
    assert bt_act.file is not None and bt_act.leaf is not None
    data, secret = bt_act.file[1], bt_act.passphrase.reveal().encode()
    assert not _opens(lambda: _load_key(data, None)), "the key opens without the passphrase"
    assert not _opens(lambda: _load_key(data, b"not-the-passphrase")), "a wrong one opens it"
    key = _load_key(data, secret)
    assert key_matches(bt_act.leaf.cert, key), "the key does not pair with the certificate"


@when("the certificate and its chain are exported together")
def export_pkcs7(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act, "export with the chain", [row.id], include_private_key=False, include_chain=True
    )


def _chain(bt_act: BtAct) -> list[x509.Certificate]:
    assert bt_act.leaf is not None
    return [bt_act.leaf.cert, *bt_act.leaf.chain[1:], bt_act.leaf.root]


@then("the file is PKCS#7 holding the server, intermediate and root certificates")
def file_pkcs7(bt_act: BtAct) -> None:
    assert bt_act.file is not None
    held = from_pkcs7(bt_act.file[1])
    assert sorted(map(fingerprint_sha256, held)) == sorted(map(fingerprint_sha256, _chain(bt_act)))


@when("the certificate is exported with its private key and chain and a passphrase")
def export_pkcs12(bt_act: BtAct) -> None:
    row = _leaf_row(bt_act)
    _export(
        bt_act,
        "export with the private key",
        [row.id],
        include_private_key=True,
        include_chain=True,
        passphrase=bt_act.passphrase,
    )


@then(
    "the file is PKCS#12 that opens only with the passphrase, holding the certificate, its "
    "private key and its chain"
)
def file_pkcs12(bt_act: BtAct) -> None:
    assert bt_act.file is not None and bt_act.leaf is not None
    data = bt_act.file[1]
    assert not _opens(lambda: from_pkcs12(data, None)), "the PKCS#12 file opens without it"
    assert not _opens(lambda: from_pkcs12(data, "not-the-passphrase")), "a wrong one opens it"
    p12 = from_pkcs12(data, bt_act.passphrase.reveal())
    assert p12.cert == bt_act.leaf.cert, "it holds another certificate"
    assert p12.key is not None and key_matches(bt_act.leaf.cert, p12.key), "no matching key"
    wanted = sorted(map(fingerprint_sha256, _chain(bt_act)[1:]))
    assert sorted(map(fingerprint_sha256, p12.chain)) == wanted, "its chain is not complete"


@when("the bundle for BeyondTrust Technical Support is prepared")
def support_bundle(bt_act: BtAct) -> None:
    bundle = bt_act.attempt(
        "prepare the support bundle", lambda: bt_act.scratch.client.support_bundle(bt_act.name)
    )
    assert bundle is not None, f"it was refused: {bt_act.error}"
    bt_act.file = bundle


def _bundle(bt_act: BtAct) -> dict[str, bytes]:
    assert bt_act.file is not None
    with zipfile.ZipFile(io.BytesIO(bt_act.file[1])) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    bt_act.observe("support bundle", sorted(files))
    return files


@then("the .zip archive holds the server, intermediate and root certificates")
def bundle_chain(bt_act: BtAct) -> None:
    found: set[str] = set()
    for data in _bundle(bt_act).values():
        if b"-----BEGIN CERTIFICATE-----" in data:
            found |= {fingerprint_sha256(c) for c in x509.load_pem_x509_certificates(data)}
    missing = [subject_of(c) for c in _chain(bt_act) if fingerprint_sha256(c) not in found]
    assert not missing, f"the bundle lacks {missing}"


@then("it holds no private key file (.p12, .pfx or .key) and no private key in any file")
def bundle_no_key(bt_act: BtAct) -> None:
    files = _bundle(bt_act)
    named = [n for n in files if n.lower().endswith(PRIVATE_KEY_FILES)]
    assert not named, f"the bundle holds private key files: {named}"
    carrying = [n for n, data in files.items() if b"PRIVATE KEY" in data]
    assert not carrying, f"these files carry a private key: {carrying}"
