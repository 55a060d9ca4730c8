"""Export (BT-06) with round-trips, and the support bundle (BT-07)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from accord.pki import CA, from_pkcs7, from_pkcs12, key_matches, load_private_key, to_pem
from simulator.beyondtrust import Appliance
from simulator.beyondtrust.errors import NotFound, ValidationError
from simulator.beyondtrust.store import Certificate
from tests.beyondtrust.conftest import Openssl

PASSPHRASE = "export-Passphr4se"


@pytest.fixture
def server(appliance: Appliance, issuing_ca: CA, root_ca: CA) -> Certificate:
    """A CA-signed server certificate with its key, intermediate and root in the store."""
    leaf = issuing_ca.issue_cert("*.example.com", "example.com", key_type="rsa")
    text = leaf.cert_pem + leaf.key_pem() + to_pem(issuing_ca.cert, root_ca.cert)
    return appliance.import_file(text.encode()).added[0]


def refused(appliance: Appliance, ids: list[int], **options: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        appliance.export(ids, **options)  # type: ignore[arg-type]
    assert PASSPHRASE not in str(caught.value)
    return caught.value


def test_certificate_alone_is_der(appliance: Appliance, server: Certificate) -> None:
    exported = appliance.export([server.id])
    assert exported.filename == "wildcard.example.com.cer"
    assert exported.content_type == "application/pkix-cert"
    assert x509.load_der_x509_certificate(exported.data) == server.certificate
    assert len(appliance.certificates()) == 4  # exporting removes nothing


def test_certificate_with_chain_is_pkcs7(
    appliance: Appliance, server: Certificate, issuing_ca: CA, root_ca: CA
) -> None:
    exported = appliance.export([server.id], include_chain=True)
    assert exported.filename.endswith(".p7b")
    assert from_pkcs7(exported.data) == [server.certificate, issuing_ca.cert, root_ca.cert]


def test_several_certificates_are_pkcs7(appliance: Appliance, server: Certificate) -> None:
    ids = [c.id for c in appliance.certificates()][1:]
    exported = appliance.export(ids)
    assert exported.filename == "certificates.p7b"
    assert len(from_pkcs7(exported.data)) == 3


def test_key_alone_is_encrypted_pkcs8(appliance: Appliance, server: Certificate) -> None:
    exported = appliance.export(
        [server.id], include_certificate=False, include_private_key=True, passphrase=PASSPHRASE
    )
    assert exported.filename.endswith(".key")
    with pytest.raises(TypeError):
        serialization.load_der_private_key(exported.data, None)  # encrypted
    key = load_private_key(exported.data, PASSPHRASE)
    assert key_matches(server.certificate, key)


def test_certificate_key_and_chain_are_pkcs12(
    appliance: Appliance, server: Certificate, issuing_ca: CA, root_ca: CA
) -> None:
    exported = appliance.export(
        [server.id], include_private_key=True, include_chain=True, passphrase=PASSPHRASE
    )
    assert exported.filename.endswith(".p12")
    assert exported.content_type == "application/x-pkcs12"
    p12 = from_pkcs12(exported.data, PASSPHRASE)
    assert p12.cert == server.certificate
    assert p12.key is not None and key_matches(server.certificate, p12.key)
    assert list(p12.chain) == [issuing_ca.cert, root_ca.cert]
    assert p12.friendly_name == server.friendly_name
    without_chain = appliance.export([server.id], include_private_key=True, passphrase="x")
    assert from_pkcs12(without_chain.data, "x").chain == ()


def test_pkcs12_export_reads_back_with_openssl(
    appliance: Appliance, server: Certificate, openssl: Openssl, tmp_path: Path
) -> None:
    exported = appliance.export([server.id], include_private_key=True, passphrase=PASSPHRASE)
    (tmp_path / "export.p12").write_bytes(exported.data)
    shown = openssl(
        "pkcs12", "-in", "export.p12", "-passin", f"pass:{PASSPHRASE}", "-nokeys"
    ).stdout.decode()
    assert "subject=CN = *.example.com" in shown
    wrong = openssl("pkcs12", "-in", "export.p12", "-passin", "pass:wrong", "-nokeys", check=False)
    assert wrong.returncode != 0


def test_export_pkcs12_imports_on_a_backup(
    appliance: Appliance, server: Certificate, issuing_ca: CA
) -> None:
    exported = appliance.export(
        [server.id], include_private_key=True, include_chain=True, passphrase=PASSPHRASE
    )
    backup = Appliance("backup", "pra2.example.com", role="backup")
    added = backup.import_file(exported.data, PASSPHRASE).added
    assert added[0].fingerprint == server.fingerprint and added[0].private_key
    assert added[0].warnings == ()


def test_a_key_is_never_exported_without_a_passphrase(
    appliance: Appliance, server: Certificate
) -> None:
    for passphrase in (None, ""):
        error = refused(appliance, [server.id], include_private_key=True, passphrase=passphrase)
        assert error.field == "passphrase"


def test_export_refusals(appliance: Appliance, server: Certificate, root_ca: CA) -> None:
    root_id = next(c.id for c in appliance.certificates() if c.kind == "root")
    assert refused(appliance, []).field == "ids"
    assert refused(appliance, "1").field == "ids"  # type: ignore[arg-type]
    assert refused(appliance, [True]).field == "ids"  # type: ignore[list-item]
    with pytest.raises(NotFound) as caught:
        appliance.export([999])
    assert caught.value.field == "ids"
    none = refused(appliance, [server.id], include_certificate=False)
    assert none.field == "include_certificate"
    keyless = refused(appliance, [root_id], include_private_key=True, passphrase=PASSPHRASE)
    assert keyless.field == "include_private_key"
    several = refused(appliance, [server.id, 1], include_private_key=True, passphrase=PASSPHRASE)
    assert several.field == "ids"
    chain_and_key = refused(
        appliance,
        [server.id],
        include_certificate=False,
        include_private_key=True,
        include_chain=True,
        passphrase=PASSPHRASE,
    )
    assert chain_and_key.field == "include_chain"
    no_chain = refused(appliance, [1], include_certificate=False, include_chain=True)
    assert no_chain.field == "include_chain"  # the factory certificate is self-signed


def test_the_factory_certificate_can_be_exported_without_key(appliance: Appliance) -> None:
    exported = appliance.export([1])
    assert exported.filename == "BeyondTrust_Appliance.cer"
    assert "data" not in repr(exported)


# --- BT-07: the support bundle ---------------------------------------------------------------


def test_support_bundle_holds_the_chain_and_no_private_key(
    appliance: Appliance, server: Certificate, issuing_ca: CA, root_ca: CA
) -> None:
    appliance.set_default(server.id)
    bundle = appliance.support_bundle()
    assert bundle.filename == "support-certificates.zip"
    archive = zipfile.ZipFile(io.BytesIO(bundle.data))
    names = archive.namelist()
    assert names == [
        "01-server-wildcard.example.com.pem",
        "02-intermediate-Example_Issuing_CA.pem",
        "03-root-Example_Root_CA.pem",
        "status-basics.txt",
    ]
    assert not any(n.endswith((".p12", ".pfx", ".key")) for n in names)
    contents = b"".join(archive.read(n) for n in names)
    assert b"PRIVATE KEY" not in contents
    certs = [x509.load_pem_x509_certificate(archive.read(n)) for n in names[:3]]
    assert certs == [server.certificate, issuing_ca.cert, root_ca.cert]
    status = archive.read("status-basics.txt").decode()
    assert "pra1.example.com" in status and server.fingerprint in status


def test_support_bundle_of_a_chosen_certificate(appliance: Appliance, server: Certificate):
    archive = zipfile.ZipFile(io.BytesIO(appliance.support_bundle(1).data))
    assert archive.namelist() == ["01-server-BeyondTrust_Appliance.pem", "status-basics.txt"]
    assert "Warning:" in archive.read("status-basics.txt").decode()
    with pytest.raises(NotFound):
        appliance.support_bundle(999)
