"""Import (BT-04): every accepted format, files made by the openssl command line, linking a
signed certificate to its pending request's key, duplicates, and every refusal (nothing
changes, no secret in the message)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from accord.pki import CA, LeafCert, load_csr, to_pem, to_pkcs7, to_pkcs12
from simulator.beyondtrust import Appliance
from simulator.beyondtrust.errors import ValidationError
from tests.beyondtrust.conftest import Openssl
from tests.beyondtrust.helpers import create_form, der

PASSWORD = "import-Passw0rd"


@pytest.fixture(scope="module")
def leaf(issuing_ca: CA) -> LeafCert:
    return issuing_ca.issue_cert("access.example.com", "*.example.com", key_type="rsa")


def refused(appliance: Appliance, data: bytes, password: str | None = None) -> ValidationError:
    before = appliance.store
    with pytest.raises(ValidationError) as caught:
        appliance.import_file(data, password)
    assert appliance.store is before, "a refused import changed the store"
    assert PASSWORD not in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)
    return caught.value


# --- accepted formats ----------------------------------------------------------------------


def test_der_certificate(appliance: Appliance, leaf: LeafCert) -> None:
    result = appliance.import_file(der(leaf.cert))
    [entry] = result.added
    assert entry.certificate == leaf.cert
    assert entry.friendly_name == entry.issued_to == "access.example.com"
    assert entry.issued_by == "Example Issuing CA"
    assert entry.alternative_names == ("access.example.com", "*.example.com")
    assert entry.private_key is False
    assert result.linked_requests == ()


def test_pem_with_chain_and_key(
    appliance: Appliance, leaf: LeafCert, issuing_ca: CA, root_ca: CA
) -> None:
    text = leaf.cert_pem + to_pem(issuing_ca.cert, root_ca.cert) + leaf.key_pem()
    added = appliance.import_file(text.encode()).added
    assert [(e.kind, e.private_key) for e in added] == [
        ("server", True),
        ("intermediate", False),
        ("root", False),
    ]
    assert added[0].warnings == ()


def test_pem_with_an_encrypted_key(appliance: Appliance, leaf: LeafCert) -> None:
    text = leaf.cert_pem + leaf.key_pem(PASSWORD)
    [entry] = appliance.import_file(text.encode(), PASSWORD).added
    assert entry.private_key
    assert refused(appliance, text.encode(), "wrong").field == "password"
    assert refused(appliance, text.encode()).field == "password"


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_pkcs7(
    appliance: Appliance, leaf: LeafCert, issuing_ca: CA, root_ca: CA, encoding: str
) -> None:
    bundle = to_pkcs7([root_ca.cert, leaf.cert, issuing_ca.cert], encoding=encoding)  # type: ignore[arg-type]
    added = appliance.import_file(bundle).added
    assert {e.kind for e in added} == {"server", "intermediate", "root"}
    server = next(e for e in added if e.kind == "server")
    assert server.warnings == () and not server.private_key


def test_pkcs12_with_password(
    appliance: Appliance, leaf: LeafCert, issuing_ca: CA, root_ca: CA
) -> None:
    p12 = to_pkcs12(
        leaf.key,
        leaf.cert,
        [issuing_ca.cert, root_ca.cert],
        passphrase=PASSWORD,
        friendly_name="Access 2030",
    )
    added = appliance.import_file(p12, PASSWORD).added
    assert added[0].friendly_name == "Access 2030"
    assert added[0].private_key and added[0].warnings == ()
    assert [e.kind for e in added[1:]] == ["intermediate", "root"]


def test_pkcs12_refusals(appliance: Appliance, leaf: LeafCert) -> None:
    p12 = to_pkcs12(leaf.key, leaf.cert, passphrase=PASSWORD)
    wrong = refused(appliance, p12, "not-the-password")
    assert (wrong.field, wrong.message) == ("password", "wrong password for the PKCS#12 file")
    missing = refused(appliance, p12)
    assert missing.field == "password" and "password is needed" in missing.message
    assert refused(appliance, p12[:-40], PASSWORD).field == "file"


def test_duplicates_are_not_added_twice(appliance: Appliance, leaf: LeafCert) -> None:
    first = appliance.import_file(der(leaf.cert))
    again = appliance.import_file(leaf.cert_pem.encode() * 2)
    assert again.added == () and [e.id for e in again.unchanged] == [first.added[0].id]
    assert len(appliance.certificates()) == 2
    # The same certificate with its key: the stored entry gains the key, nothing is added.
    with_key = appliance.import_file((leaf.cert_pem + leaf.key_pem()).encode())
    assert with_key.added == ()
    assert [e.private_key for e in with_key.key_added] == [True]
    assert len(appliance.certificates()) == 2


# --- a signed certificate for a pending request ------------------------------------------------


def test_signed_certificate_is_linked_to_its_request(
    appliance: Appliance, issuing_ca: CA, root_ca: CA
) -> None:
    request = appliance.create_request(
        create_form(
            friendly_name="CSR 2030",
            common_name="access.example.com",
            alternative_names=["access.example.com"],
        )
    )
    other = appliance.create_request(create_form(friendly_name="another"))
    signed = issuing_ca.sign_csr(request.request_data)
    result = appliance.import_file(der(signed))
    [entry] = result.added
    assert result.linked_requests == (request.id,)
    assert entry.private_key is True
    assert entry.friendly_name == "CSR 2030"
    assert [r.id for r in appliance.requests()] == [other.id]  # the request left the list
    assert entry.warnings == ("The certificate chain is incomplete: intermediate or root missing",)
    appliance.import_file(to_pkcs7([issuing_ca.cert, root_ca.cert], encoding="der"))
    assert appliance.certificate(entry.id).warnings == ()
    assert appliance.set_default(entry.id).default


def test_a_renewal_on_the_same_key_gets_that_key(appliance: Appliance, issuing_ca: CA) -> None:
    first = issuing_ca.issue_cert("access.example.com", key_type="rsa", days=30)
    renewed = issuing_ca.issue_cert("access.example.com", key=first.key, days=400)
    appliance.import_file((first.cert_pem + first.key_pem()).encode())
    [entry] = appliance.import_file(der(renewed.cert)).added
    assert entry.private_key


# --- files made by the openssl command line -----------------------------------------------------


def test_openssl_self_signed_and_pkcs12(
    appliance: Appliance, openssl: Openssl, tmp_path: Path
) -> None:
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
        "-out", "cert.pem", "-days", "30",
        "-subj", "/C=US/O=Business Company/CN=openssl.example.com",
        "-addext", "subjectAltName=DNS:openssl.example.com,DNS:*.openssl.example.com",
    )  # fmt: skip
    openssl(
        "pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-name", "from openssl",
        "-passout", f"pass:{PASSWORD}", "-out", "bundle.p12",
    )  # fmt: skip
    openssl("x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der")
    p12 = (tmp_path / "bundle.p12").read_bytes()
    assert refused(appliance, p12, "nope").field == "password"
    [entry] = appliance.import_file(p12, PASSWORD).added
    assert entry.friendly_name == "from openssl"
    assert entry.private_key
    assert entry.alternative_names == ("openssl.example.com", "*.openssl.example.com")
    assert entry.kind == "server"  # it has its key, even though openssl marks it CA:TRUE
    assert appliance.select_certificate("x.openssl.example.com").id == entry.id
    again = appliance.import_file((tmp_path / "cert.der").read_bytes())
    assert again.added == () and [e.id for e in again.unchanged] == [entry.id]


def test_openssl_signs_the_appliances_request(
    appliance: Appliance, openssl: Openssl, tmp_path: Path, issuing_ca: CA
) -> None:
    request = appliance.create_request(create_form(friendly_name="signed by openssl"))
    (tmp_path / "request.csr").write_text(request.request_data)
    (tmp_path / "ca.pem").write_text(issuing_ca.cert_pem)
    (tmp_path / "ca.key").write_text(issuing_ca.key_pem())
    openssl(
        "x509", "-req", "-in", "request.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "90", "-copy_extensions", "copy", "-out", "signed.crt",
    )  # fmt: skip
    openssl("crl2pkcs7", "-nocrl", "-certfile", "signed.crt", "-certfile", "ca.pem",
            "-outform", "DER", "-out", "chain.p7b")  # fmt: skip
    result = appliance.import_file((tmp_path / "chain.p7b").read_bytes())
    assert result.linked_requests == (request.id,)
    server = next(e for e in result.added if e.kind == "server")
    assert server.private_key and server.friendly_name == "signed by openssl"
    assert server.alternative_names == ("access.example.com", "*.example.com")


# --- refusals ----------------------------------------------------------------------------------


def test_garbage_empty_and_truncated(appliance: Appliance, leaf: LeafCert) -> None:
    assert "could not be read" in refused(appliance, b"this is not a certificate").message
    assert refused(appliance, b"").message == "the file is empty"
    truncated = refused(appliance, der(leaf.cert)[:200])
    assert truncated.field == "file" and "truncated" in truncated.message
    bad_pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    assert refused(appliance, bad_pem).field == "file"


def test_a_key_without_its_certificate(appliance: Appliance, leaf: LeafCert) -> None:
    error = refused(appliance, leaf.key_pem().encode())
    assert error.field == "file" and "private key but no certificate" in error.message
    der_key = leaf.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert "private key but no certificate" in refused(appliance, der_key).message
    assert "no certificate" in refused(appliance, leaf.key_pem(PASSWORD).encode()).message


def test_a_key_that_matches_no_certificate(
    appliance: Appliance, leaf: LeafCert, issuing_ca: CA
) -> None:
    stranger = issuing_ca.issue_cert("other.example.com")
    error = refused(appliance, (leaf.cert_pem + stranger.key_pem()).encode())
    assert "does not match any certificate" in error.message


def test_two_keys_are_refused(appliance: Appliance, leaf: LeafCert) -> None:
    text = leaf.cert_pem + leaf.key_pem() + leaf.key_pem()
    assert "more than one private key" in refused(appliance, text.encode()).message


def test_a_csr_is_not_a_certificate(appliance: Appliance) -> None:
    request = appliance.create_request(create_form())
    error = refused(appliance, request.request_data.encode())
    assert "certificate signing request" in error.message
    csr_der = load_csr(request.request_data).public_bytes(serialization.Encoding.DER)
    assert "certificate signing request" in refused(appliance, csr_der).message
