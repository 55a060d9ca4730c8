"""accord.pki.ca: structure of what the CA issues, and that strict verifiers accept it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

from accord.pki import (
    CA,
    UPN_OID,
    PkiError,
    common_name,
    key_matches,
    load_private_key,
    new_csr,
    self_signed_cert,
    upn_names,
)

from .conftest import NOW


def ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.Extension:
    return cert.extensions.get_extension_for_oid(oid)


def assert_key_ids(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    ski = ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    aki = ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    assert not ski.critical and not aki.critical
    assert ski.value.digest == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    issuer_ski = ext(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
    assert aki.value.key_identifier == issuer_ski.digest


# --- structure --------------------------------------------------------------------------------


def test_root_is_a_self_signed_ca_with_key_ids(root):
    cert = root.cert
    assert cert.subject == cert.issuer
    assert common_name(cert) == "Accord Test Root CA"
    bc = ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and bc.value.ca and bc.value.path_length is None
    ku = ext(cert, ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert_key_ids(cert, cert)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert root.path == (cert,) and root.root is cert and root.parent is None


def test_intermediate_has_path_length_zero_and_points_at_root(root, intermediate):
    cert = intermediate.cert
    assert cert.issuer == root.cert.subject
    bc = ext(cert, ExtensionOID.BASIC_CONSTRAINTS).value
    assert bc.ca and bc.path_length == 0 and intermediate.path_length == 0
    assert_key_ids(cert, root.cert)
    assert intermediate.path == (cert, root.cert)
    assert intermediate.root is root.cert
    assert intermediate.path_pem == intermediate.cert_pem + root.cert_pem


def test_a_path_length_zero_ca_cannot_issue_another_ca(intermediate):
    with pytest.raises(PkiError, match="path length 0"):
        intermediate.issue_intermediate("Too deep")


def test_leaf_extensions(root, intermediate):
    leaf = intermediate.issue_cert("conf01.example.com", "*.meet.example.com", "192.0.2.10")
    cert = leaf.cert
    assert common_name(cert) == "conf01.example.com"
    san = ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert not san.critical
    assert san.value.get_values_for_type(x509.DNSName) == [
        "conf01.example.com",
        "*.meet.example.com",
    ]
    assert san.value.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.10")]
    bc = ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and not bc.value.ca
    ku = ext(cert, ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_encipherment
    assert list(ext(cert, ExtensionOID.EXTENDED_KEY_USAGE).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    assert_key_ids(cert, intermediate.cert)
    assert leaf.chain == (cert, intermediate.cert)
    assert leaf.root is root.cert
    assert leaf.chain_pem == leaf.cert_pem + intermediate.cert_pem
    assert leaf.root_pem == root.cert_pem
    assert key_matches(cert, leaf.key)


def test_rsa_ca_and_rsa_leaf():
    rsa_root = CA.new("RSA Root", key_type="rsa", now=NOW)
    leaf = rsa_root.issue_cert("rsa.example.com", key_type="rsa", now=NOW)
    assert isinstance(rsa_root.key, rsa.RSAPrivateKey)
    assert isinstance(leaf.cert.public_key(), rsa.RSAPublicKey)
    assert leaf.cert.public_key().key_size == 2048
    ku = ext(leaf.cert, ExtensionOID.KEY_USAGE).value
    assert ku.key_encipherment and ku.digital_signature
    assert isinstance(leaf.cert.signature_hash_algorithm, hashes.SHA256)
    assert leaf.chain == (leaf.cert,)
    assert_key_ids(leaf.cert, rsa_root.cert)


def test_p384_keys_sign_with_sha384():
    ca = CA.new("P-384 Root", key_type="ecdsa-p384", now=NOW)
    leaf = ca.issue_cert("p384.example.com", key_type="ecdsa-p384", now=NOW)
    assert isinstance(leaf.cert.signature_hash_algorithm, hashes.SHA384)
    assert leaf.cert.public_key().curve.name == "secp384r1"


def test_validity_window_follows_now_and_days(root):
    leaf = root.issue_cert("a.example.com", now=NOW.replace(microsecond=123), days=10)
    assert leaf.cert.not_valid_before_utc == NOW - dt.timedelta(hours=1)
    assert leaf.cert.not_valid_after_utc == NOW + dt.timedelta(days=10)
    start, end = NOW - dt.timedelta(days=3), NOW + dt.timedelta(days=3)
    explicit = root.issue_cert("b.example.com", not_before=start, not_after=end)
    assert explicit.cert.not_valid_before_utc == start
    assert explicit.cert.not_valid_after_utc == end


def test_bad_validity_and_naive_times_are_refused(root):
    with pytest.raises(PkiError, match="not_after must be later"):
        root.issue_cert("a.example.com", not_before=NOW, not_after=NOW)
    with pytest.raises(PkiError, match="timezone-aware"):
        root.issue_cert("a.example.com", now=dt.datetime(2030, 1, 1))


def test_empty_subject_certificate_has_only_a_critical_san(root):
    leaf = root.issue_cert("sanonly.example.com", empty_subject=True, now=NOW)
    assert len(leaf.cert.subject) == 0
    san = ext(leaf.cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert san.critical  # RFC 5280 4.2.1.6: an empty subject needs a critical SAN
    assert san.value.get_values_for_type(x509.DNSName) == ["sanonly.example.com"]


def test_common_name_only_certificate_has_no_san(root):
    leaf = root.issue_cert(common_name="cn-only.example.com", now=NOW)
    assert common_name(leaf.cert) == "cn-only.example.com"
    with pytest.raises(x509.ExtensionNotFound):
        leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_custom_common_name_with_sans(root):
    leaf = root.issue_cert("a.example.com", common_name="Pexip Lab", now=NOW)
    assert leaf.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Pexip Lab"


def test_client_certificate_with_upn(root):
    leaf = root.issue_cert(upn="alice@example.com", eku=("clientAuth",), now=NOW)
    assert common_name(leaf.cert) == "alice@example.com"
    assert upn_names(leaf.cert) == ["alice@example.com"]
    other = leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    (name,) = other.get_values_for_type(x509.OtherName)
    assert name.type_id == UPN_OID and name.value == b"\x0c\x11alice@example.com"
    eku = ext(leaf.cert, ExtensionOID.EXTENDED_KEY_USAGE).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_openssl_reads_the_upn(root, openssl, tmp_path: Path):
    leaf = root.issue_cert(upn="alice@example.com", eku=("clientAuth",), now=NOW)
    (tmp_path / "c.pem").write_text(leaf.cert_pem)
    out = openssl("x509", "-in", "c.pem", "-noout", "-ext", "subjectAltName").stdout.decode()
    assert "othername: UPN::alice@example.com" in out


def test_eku_by_oid_and_unknown_names(root):
    oid = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.2")
    leaf = root.issue_cert("a.example.com", eku=("serverAuth", oid), now=NOW)
    assert list(ext(leaf.cert, ExtensionOID.EXTENDED_KEY_USAGE).value)[1] == oid
    with pytest.raises(PkiError, match="unknown extended key usage"):
        root.issue_cert("a.example.com", eku=("webServer",))


def test_issue_errors(root):
    with pytest.raises(PkiError, match="common name or at least one SAN"):
        root.issue_cert()
    with pytest.raises(PkiError, match="unknown key type"):
        root.issue_cert("a.example.com", key_type="dsa")  # type: ignore[arg-type]


def test_reusing_a_key_for_renewal(root):
    first = root.issue_cert("renew.example.com", now=NOW)
    second = root.issue_cert("renew.example.com", key=first.key, now=NOW + dt.timedelta(days=300))
    assert second.key is first.key
    assert second.cert.serial_number != first.cert.serial_number
    assert key_matches(second.cert, first.key)


def test_key_pem_plain_and_encrypted(root):
    leaf = root.issue_cert("key.example.com", now=NOW)
    plain = leaf.key_pem()
    assert plain.startswith("-----BEGIN PRIVATE KEY-----")
    encrypted = leaf.key_pem("s3cret")
    assert encrypted.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert key_matches(leaf.cert, load_private_key(encrypted, "s3cret"))
    assert root.key_pem().startswith("-----BEGIN PRIVATE KEY-----")


def test_self_signed_certificate(root):
    ss = self_signed_cert("pexnode.example.com", now=NOW)
    assert ss.cert.subject == ss.cert.issuer
    assert ss.chain == (ss.cert,) and ss.root is ss.cert
    assert not ext(ss.cert, ExtensionOID.BASIC_CONSTRAINTS).value.ca
    assert_key_ids(ss.cert, ss.cert)
    with pytest.raises(PkiError, match="needs a name"):
        self_signed_cert()


# --- CSRs -------------------------------------------------------------------------------------


def test_new_csr_requests_sans_and_both_ekus():
    csr, key = new_csr("mgr.example.com", "10.0.0.5")
    assert csr.is_signature_valid
    assert common_name(csr) == "mgr.example.com"  # type: ignore[arg-type]
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mgr.example.com"]
    eku = csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert isinstance(key, ec.EllipticCurvePrivateKey)


def test_sign_csr_copies_subject_san_and_requested_eku(intermediate):
    csr, key = new_csr("conf02.example.com", "sip.example.com")
    cert = intermediate.sign_csr(csr, now=NOW, days=90)
    assert cert.subject == csr.subject
    assert cert.issuer == intermediate.cert.subject
    san = ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert not san.critical
    assert san.value.get_values_for_type(x509.DNSName) == ["conf02.example.com", "sip.example.com"]
    assert list(ext(cert, ExtensionOID.EXTENDED_KEY_USAGE).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    ]
    assert cert.not_valid_after_utc == NOW + dt.timedelta(days=90)
    assert_key_ids(cert, intermediate.cert)
    assert key_matches(cert, key)


def test_sign_csr_from_pem_with_eku_override_and_default(intermediate):
    csr, _ = new_csr("a.example.com", eku=())
    pem = csr.public_bytes(Encoding.PEM).decode()
    default = intermediate.sign_csr(pem, now=NOW)
    assert list(ext(default, ExtensionOID.EXTENDED_KEY_USAGE).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    client = intermediate.sign_csr(csr.public_bytes(Encoding.DER), eku=("clientAuth",), now=NOW)
    assert list(ext(client, ExtensionOID.EXTENDED_KEY_USAGE).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]


def test_sign_csr_made_by_openssl_with_rsa_key(intermediate, openssl, tmp_path: Path):
    openssl(
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "r.csr",
        "-subj", "/CN=ossl.example.com", "-addext", "subjectAltName=DNS:ossl.example.com",
    )  # fmt: skip
    cert = intermediate.sign_csr((tmp_path / "r.csr").read_bytes(), now=NOW)
    ku = ext(cert, ExtensionOID.KEY_USAGE).value
    assert ku.key_encipherment
    key = load_private_key((tmp_path / "k.pem").read_bytes())
    assert key_matches(cert, key)


def test_sign_csr_refuses_a_certificate_and_a_bad_signature(root, intermediate):
    with pytest.raises(PkiError, match="no CSR found: the PEM text holds a certificate"):
        intermediate.sign_csr(root.cert_pem)
    csr, _ = new_csr("a.example.com")
    tampered = bytearray(csr.public_bytes(Encoding.DER))
    tampered[-1] ^= 0x01  # the last byte of the ECDSA signature's s
    bad = x509.load_der_x509_csr(bytes(tampered))
    with pytest.raises(PkiError, match="signature does not verify"):
        intermediate.sign_csr(bad)


# --- strict verifiers accept what the CA issues -------------------------------------------------


def test_cryptography_verifier_accepts_server_chain(root, intermediate):
    leaf = intermediate.issue_cert("verify.example.com", now=NOW)
    verifier = (
        PolicyBuilder()
        .store(Store([root.cert]))
        .time(NOW)
        .build_server_verifier(x509.DNSName("verify.example.com"))
    )
    chain = verifier.verify(leaf.cert, [intermediate.cert])
    assert chain == [leaf.cert, intermediate.cert, root.cert]


def test_cryptography_verifier_accepts_client_certificate(root):
    rsa_leaf = root.issue_cert(upn="bob@example.com", eku=("clientAuth",), key_type="rsa", now=NOW)
    verifier = PolicyBuilder().store(Store([root.cert])).time(NOW).build_client_verifier()
    verified = verifier.verify(rsa_leaf.cert, [])
    assert verified.chain[0] == rsa_leaf.cert


def test_openssl_x509_strict_verifies_chain(root, intermediate, openssl, tmp_path: Path):
    leaf = intermediate.issue_cert("strict.example.com", now=NOW)
    (tmp_path / "root.pem").write_text(root.cert_pem)
    (tmp_path / "inter.pem").write_text(intermediate.cert_pem)
    (tmp_path / "leaf.pem").write_text(leaf.cert_pem)
    proc = openssl(
        "verify", "-x509_strict", "-attime", str(int(NOW.timestamp())),
        "-CAfile", "root.pem", "-untrusted", "inter.pem",
        "-purpose", "sslserver", "-verify_hostname", "strict.example.com", "leaf.pem",
    )  # fmt: skip
    assert proc.stdout.strip().endswith(b"OK")


def test_python_ssl_strict_handshake_over_loopback(tmp_path: Path):
    root = CA.new("Loopback Root")  # the real clock: the ssl module has no injectable time
    intermediate = root.issue_intermediate("Loopback Intermediate", key_type="rsa")
    leaf = intermediate.issue_cert("localhost", "127.0.0.1")
    (tmp_path / "chain.pem").write_text(leaf.chain_pem)
    (tmp_path / "key.pem").write_text(leaf.key_pem("pw"))

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem", password="pw")
    client_ctx = ssl.create_default_context(cadata=root.cert_pem)
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT  # default from Python 3.13 on

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(tls.recv(5))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"hello")
                assert tls.recv(5) == b"hello"
                peer = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    finally:
        thread.join(10)
        listener.close()
    assert not errors
    assert peer == leaf.cert
