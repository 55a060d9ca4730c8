"""accord.pki.parse: loading certificates, CSRs and keys, and the errors for the wrong input."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from accord.pki import (
    PkiError,
    certificate_to_der,
    key_matches,
    load_certificate,
    load_csr,
    load_pem_certificates,
    load_private_key,
    new_csr,
    pem_labels,
    private_key_to_pkcs8,
)
from accord.pki.parse import pem_blocks

from .conftest import NOW

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def leaf(intermediate):
    return intermediate.issue_cert("parse.example.com", now=NOW)


def csr_pem() -> str:
    csr, _ = new_csr("csr.example.com")
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def assert_no_secret(exc: pytest.ExceptionInfo[PkiError], *secrets: str) -> None:
    text = str(exc.value)
    for secret in secrets:
        assert secret not in text
    assert "PRIVATE KEY-----" not in text and exc.value.__cause__ is None


# --- certificates -----------------------------------------------------------------------------


def test_load_pem_certificates_keeps_order_and_skips_other_blocks(leaf, intermediate):
    text = leaf.key_pem() + leaf.chain_pem + "\n# DH parameters would go here\n"
    assert load_pem_certificates(text) == [leaf.cert, intermediate.cert]
    assert load_pem_certificates(leaf.chain_pem.encode()) == [leaf.cert, intermediate.cert]


def test_a_csr_given_as_a_certificate_is_named():
    with pytest.raises(PkiError, match=r"certificate signing request \(CSR\) was given"):
        load_pem_certificates(csr_pem())
    with pytest.raises(PkiError, match="CSR"):
        load_certificate(csr_pem())


def test_a_csr_among_certificates_is_refused(leaf):
    with pytest.raises(PkiError, match="CSR"):
        load_pem_certificates(leaf.cert_pem + csr_pem())


def test_no_certificate_errors_name_what_was_given(leaf):
    with pytest.raises(PkiError, match="no certificate found: the PEM text holds a private key"):
        load_pem_certificates(leaf.key_pem())
    with pytest.raises(PkiError, match="an encrypted private key"):
        load_pem_certificates(leaf.key_pem("x"))
    with pytest.raises(PkiError, match="not PEM"):
        load_pem_certificates("hello")
    with pytest.raises(PkiError, match="a PEM FOO block"):
        load_pem_certificates("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n")


def test_broken_certificate_block():
    broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(PkiError, match="could not be parsed"):
        load_pem_certificates(broken)


def test_load_certificate_pem_and_der(leaf):
    assert load_certificate(leaf.chain_pem) == leaf.cert
    assert load_certificate(certificate_to_der(leaf.cert)) == leaf.cert


def test_load_certificate_der_csr_and_garbage():
    csr, _ = new_csr("der.example.com")
    with pytest.raises(PkiError, match="CSR"):
        load_certificate(csr.public_bytes(serialization.Encoding.DER))
    with pytest.raises(PkiError, match="neither PEM nor DER"):
        load_certificate(b"\x30\x03\x02\x01\x01")


# --- CSRs -------------------------------------------------------------------------------------


def test_load_csr_pem_der_and_wrong_input(leaf, openssl, tmp_path: Path):
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "k.pem", "-out", "r.csr", "-subj", "/CN=ossl.example.com",
    )  # fmt: skip
    csr = load_csr((tmp_path / "r.csr").read_text())
    assert csr.is_signature_valid
    assert load_csr(csr.public_bytes(serialization.Encoding.DER)) == csr
    with pytest.raises(PkiError, match="no CSR found: the PEM text holds a certificate"):
        load_csr(leaf.cert_pem)
    with pytest.raises(PkiError, match="not a certificate signing request"):
        load_csr(certificate_to_der(leaf.cert))
    with pytest.raises(PkiError, match="could not be parsed"):
        load_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")


# --- private keys -----------------------------------------------------------------------------


def test_load_private_key_plain_and_appended_to_a_certificate(leaf):
    assert key_matches(leaf.cert, load_private_key(leaf.key_pem()))
    assert key_matches(leaf.cert, load_private_key(leaf.chain_pem + leaf.key_pem()))


def test_encrypted_key_needs_the_right_passphrase(leaf):
    encrypted = leaf.key_pem(PASSPHRASE)
    assert key_matches(leaf.cert, load_private_key(encrypted, PASSPHRASE))
    assert key_matches(leaf.cert, load_private_key(encrypted, PASSPHRASE.encode()))
    with pytest.raises(PkiError, match="private key is encrypted: a passphrase is needed") as exc:
        load_private_key(encrypted)
    assert_no_secret(exc, PASSPHRASE)
    with pytest.raises(
        PkiError, match="could not decrypt the private key: wrong passphrase"
    ) as exc:
        load_private_key(encrypted, "not the passphrase")
    assert_no_secret(exc, PASSPHRASE, "not the passphrase")


def test_passphrase_for_an_unencrypted_key_is_ignored(leaf):
    assert key_matches(leaf.cert, load_private_key(leaf.key_pem(), "unused"))


def test_not_a_key(leaf):
    with pytest.raises(PkiError, match="no private key found: the PEM text holds a certificate"):
        load_private_key(leaf.cert_pem)
    with pytest.raises(PkiError, match="CSR"):
        load_private_key(csr_pem())
    with pytest.raises(PkiError, match="neither PEM nor DER"):
        load_private_key(b"garbage")
    broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    with pytest.raises(PkiError, match="could not be parsed") as exc:
        load_private_key(broken)
    assert_no_secret(exc, "AAAA")


def test_der_keys_plain_and_encrypted(leaf):
    der = private_key_to_pkcs8(leaf.key, encoding="der")
    assert key_matches(leaf.cert, load_private_key(der))
    encrypted = private_key_to_pkcs8(leaf.key, PASSPHRASE, encoding="der")
    assert key_matches(leaf.cert, load_private_key(encrypted, PASSPHRASE))
    with pytest.raises(PkiError, match="a passphrase is needed"):
        load_private_key(encrypted)
    with pytest.raises(PkiError, match="wrong passphrase"):
        load_private_key(encrypted, "nope")


def test_openssl_traditional_keys(openssl, tmp_path: Path):
    openssl("genrsa", "-traditional", "-out", "rsa.pem", "2048")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.pem")
    openssl(
        "genrsa", "-traditional", "-aes256", "-passout", f"pass:{PASSPHRASE}",
        "-out", "rsa-enc.pem", "2048",
    )  # fmt: skip
    rsa_text = (tmp_path / "rsa.pem").read_text()
    assert rsa_text.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert isinstance(load_private_key(rsa_text), rsa.RSAPrivateKey)
    ec_text = (tmp_path / "ec.pem").read_text()
    assert pem_labels(ec_text) == ["EC PRIVATE KEY"]
    assert isinstance(load_private_key(ec_text), ec.EllipticCurvePrivateKey)
    enc = (tmp_path / "rsa-enc.pem").read_text()
    assert "Proc-Type: 4,ENCRYPTED" in enc
    assert isinstance(load_private_key(enc, PASSPHRASE), rsa.RSAPrivateKey)
    with pytest.raises(PkiError, match="a passphrase is needed"):
        load_private_key(enc)
    with pytest.raises(PkiError, match="wrong passphrase"):
        load_private_key(enc, "nope")


# --- PEM labels and blocks --------------------------------------------------------------------


def test_pem_labels_and_blocks(leaf):
    text = leaf.cert_pem + leaf.key_pem()
    assert pem_labels(text) == ["CERTIFICATE", "PRIVATE KEY"]
    ((label, der),) = pem_blocks(text, "CERTIFICATE")
    assert label == "CERTIFICATE" and der == certificate_to_der(leaf.cert)
    assert len(pem_blocks(text)) == 2
    with pytest.raises(PkiError, match="not valid base64"):
        pem_blocks("-----BEGIN X-----\n!!!!\n-----END X-----\n")
