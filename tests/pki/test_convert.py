"""accord.pki.convert: PEM, DER, PKCS#7, PKCS#8, PKCS#12 round trips, checked against openssl."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from accord.pki import (
    PkiError,
    certificate_to_der,
    certificates_to_pem,
    der_to_pem,
    from_pkcs7,
    from_pkcs12,
    key_matches,
    load_certificate,
    load_pem_certificates,
    load_private_key,
    new_csr,
    pem_to_der,
    private_key_to_pkcs8,
    read_certificates,
    sort_chain,
    to_pkcs7,
    to_pkcs12,
)

from .conftest import NOW

PASSPHRASE = "p12 pass phrase"


@pytest.fixture(scope="module")
def leaf(intermediate):
    return intermediate.issue_cert("convert.example.com", now=NOW)


@pytest.fixture(scope="module")
def rsa_leaf(intermediate):
    return intermediate.issue_cert("rsa-convert.example.com", key_type="rsa", now=NOW)


# --- PEM and DER ------------------------------------------------------------------------------


def test_pem_der_round_trip(leaf):
    der = pem_to_der(leaf.cert_pem)
    assert der == certificate_to_der(leaf.cert)
    assert der_to_pem(der) == leaf.cert_pem
    assert certificates_to_pem(leaf.chain) == leaf.chain_pem


def test_openssl_agrees_on_der(leaf, openssl, tmp_path: Path):
    (tmp_path / "c.der").write_bytes(pem_to_der(leaf.cert_pem))
    out = openssl("x509", "-inform", "DER", "-in", "c.der", "-outform", "PEM").stdout
    assert load_certificate(out) == leaf.cert


def test_der_to_pem_refuses_a_csr():
    csr, _ = new_csr("a.example.com")
    with pytest.raises(PkiError, match="CSR"):
        der_to_pem(csr.public_bytes(serialization.Encoding.DER))


# --- PKCS#7 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_pkcs7_round_trip(leaf, root, encoding):
    certs = [*leaf.chain, root.cert]
    bundle = to_pkcs7(certs, encoding=encoding)
    assert bundle.startswith(b"-----BEGIN PKCS7-----") == (encoding == "pem")
    assert from_pkcs7(bundle) == certs


@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_openssl_reads_our_pkcs7(leaf, root, openssl, tmp_path: Path, encoding):
    (tmp_path / "b.p7b").write_bytes(to_pkcs7([*leaf.chain, root.cert], encoding=encoding))
    out = openssl(
        "pkcs7", "-inform", encoding.upper(), "-in", "b.p7b", "-print_certs"
    ).stdout.decode()
    # a SET OF: openssl prints the encoding's order; sort_chain restores the chain's
    assert sort_chain(load_pem_certificates(out)) == [*leaf.chain, root.cert]


def test_we_read_openssl_pkcs7(leaf, openssl, tmp_path: Path):
    (tmp_path / "chain.pem").write_text(leaf.chain_pem)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-out", "o.p7b")
    openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-outform", "DER", "-out", "o.p7c")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openssl's BER set ordering is read without a warning
        assert from_pkcs7((tmp_path / "o.p7b").read_bytes()) == list(leaf.chain)
        assert from_pkcs7((tmp_path / "o.p7c").read_bytes()) == list(leaf.chain)


def test_pkcs7_errors(leaf):
    with pytest.raises(PkiError, match="at least one certificate"):
        to_pkcs7([])
    with pytest.raises(PkiError, match="unknown encoding"):
        to_pkcs7([leaf.cert], encoding="base64")  # type: ignore[arg-type]
    with pytest.raises(PkiError, match="not a certificates-only PKCS#7"):
        from_pkcs7(certificate_to_der(leaf.cert))


# --- PKCS#8 -----------------------------------------------------------------------------------


def test_pkcs8_plain_and_encrypted_round_trip(leaf, rsa_leaf):
    for item in (leaf, rsa_leaf):
        plain = private_key_to_pkcs8(item.key)
        assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
        assert key_matches(item.cert, load_private_key(plain))
        encrypted = private_key_to_pkcs8(item.key, "k3y pass")
        assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert key_matches(item.cert, load_private_key(encrypted, "k3y pass"))
        with pytest.raises(PkiError, match="wrong passphrase"):
            load_private_key(encrypted, "K3y pass")


def test_openssl_reads_our_encrypted_pkcs8(rsa_leaf, openssl, tmp_path: Path):
    (tmp_path / "k.pem").write_bytes(private_key_to_pkcs8(rsa_leaf.key, "k3y pass"))
    out = openssl("pkey", "-in", "k.pem", "-passin", "pass:k3y pass", "-pubout").stdout
    ours = rsa_leaf.cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert out == ours
    wrong = openssl("pkey", "-in", "k.pem", "-passin", "pass:nope", "-noout", check=False)
    assert wrong.returncode != 0


def test_we_read_openssl_encrypted_pkcs8(openssl, tmp_path: Path):
    openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-aes-256-cbc", "-pass", "pass:ossl pass", "-out", "k.pem",
    )  # fmt: skip
    text = (tmp_path / "k.pem").read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = load_private_key(text, "ossl pass")
    pub = openssl("pkey", "-in", "k.pem", "-passin", "pass:ossl pass", "-pubout").stdout
    assert pub == key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- PKCS#12 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["aes", "legacy-3des"])
def test_pkcs12_round_trip(leaf, root, legacy):
    data = to_pkcs12(
        leaf.key,
        leaf.cert,
        [*leaf.chain[1:], root.cert],
        passphrase=PASSPHRASE,
        friendly_name="convert.example.com",
        legacy=legacy,
    )
    p12 = from_pkcs12(data, PASSPHRASE)
    assert p12.cert == leaf.cert
    assert p12.key is not None and key_matches(leaf.cert, p12.key)
    assert p12.chain == (*leaf.chain[1:], root.cert)
    assert p12.friendly_name == "convert.example.com"


def test_pkcs12_wrong_passphrase_and_garbage(leaf):
    data = to_pkcs12(leaf.key, leaf.cert, passphrase=PASSPHRASE)
    with pytest.raises(PkiError, match="wrong passphrase or not PKCS#12") as exc:
        from_pkcs12(data, "not it")
    assert PASSPHRASE not in str(exc.value) and "not it" not in str(exc.value)
    with pytest.raises(PkiError, match="wrong passphrase or not PKCS#12"):
        from_pkcs12(b"\x30\x00", PASSPHRASE)


def test_pkcs12_without_passphrase_or_name(leaf):
    p12 = from_pkcs12(to_pkcs12(leaf.key, leaf.cert, passphrase=None), None)
    assert p12.cert == leaf.cert and p12.friendly_name is None and p12.chain == ()


def test_openssl_reads_our_pkcs12(rsa_leaf, root, openssl, tmp_path: Path):
    chain = [*rsa_leaf.chain[1:], root.cert]
    data = to_pkcs12(
        rsa_leaf.key, rsa_leaf.cert, chain, passphrase=PASSPHRASE, friendly_name="rsa node"
    )
    (tmp_path / "f.p12").write_bytes(data)
    certs = openssl("pkcs12", "-in", "f.p12", "-passin", f"pass:{PASSPHRASE}", "-nokeys").stdout
    assert set(load_pem_certificates(certs)) == {rsa_leaf.cert, *chain}
    assert b"friendlyName: rsa node" in certs
    keys = openssl(
        "pkcs12", "-in", "f.p12", "-passin", f"pass:{PASSPHRASE}", "-nocerts", "-nodes"
    ).stdout
    assert key_matches(rsa_leaf.cert, load_private_key(keys))
    wrong = openssl("pkcs12", "-in", "f.p12", "-passin", "pass:nope", "-nokeys", check=False)
    assert wrong.returncode != 0


def test_we_read_an_openssl_pkcs12(leaf, root, openssl, tmp_path: Path):
    (tmp_path / "cert.pem").write_text(leaf.cert_pem)
    (tmp_path / "key.pem").write_text(leaf.key_pem())
    (tmp_path / "chain.pem").write_text(leaf.chain_pem[len(leaf.cert_pem) :] + root.cert_pem)
    openssl(
        "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-certfile", "chain.pem",
        "-name", "made by openssl", "-passout", f"pass:{PASSPHRASE}", "-out", "o.p12",
    )  # fmt: skip
    p12 = from_pkcs12((tmp_path / "o.p12").read_bytes(), PASSPHRASE)
    assert p12.cert == leaf.cert
    assert p12.friendly_name == "made by openssl"
    assert set(p12.chain) == {*leaf.chain[1:], root.cert}
    assert p12.key is not None and key_matches(leaf.cert, p12.key)


# --- reading any format -----------------------------------------------------------------------


def test_read_certificates_in_every_import_format(leaf, root):
    chain = list(leaf.chain)
    assert read_certificates(leaf.chain_pem) == chain
    assert read_certificates(certificate_to_der(leaf.cert)) == [leaf.cert]
    assert read_certificates(to_pkcs7(chain)) == chain
    assert read_certificates(to_pkcs7(chain, encoding="der")) == chain
    p12 = to_pkcs12(leaf.key, leaf.cert, [root.cert], passphrase=PASSPHRASE)
    assert read_certificates(p12, PASSPHRASE) == [leaf.cert, root.cert]
    with pytest.raises(PkiError, match="wrong passphrase"):
        read_certificates(p12, "nope")


def test_read_certificates_refuses_csrs():
    csr, _ = new_csr("a.example.com")
    with pytest.raises(PkiError, match="CSR"):
        read_certificates(csr.public_bytes(serialization.Encoding.DER))
    with pytest.raises(PkiError, match="CSR"):
        read_certificates(csr.public_bytes(serialization.Encoding.PEM))
