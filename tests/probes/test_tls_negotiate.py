"""`tls.negotiate` against real TLS servers on random loopback addresses: which versions and
cipher suites a server accepts, told apart from a closed port.

The test PKI and the loopback TLS server here are also used by the HTTP and SIP probe tests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.network import Endpoint
from accord.probes import tls

SERVER_NAME = "node.probe.test"
CHACHA_ONLY = "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305"
CHACHA13 = "TLS_CHACHA20_POLY1305_SHA256"


# --- a test PKI: root CA (SKI, AKI) issuing a server and a client certificate -------------------


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server: tuple[Path, Path]  # certificate, key
    client: tuple[Path, Path]


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    sans: list[x509.GeneralName] | None = None,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    signer_cert, signer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_cert.subject if signer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    )
    if issuer is None:
        usage_bits = dict(key_cert_sign=True, crl_sign=True, digital_signature=False)
    else:
        usage_bits = dict(key_cert_sign=False, crl_sign=False, digital_signature=True)
    builder = builder.add_extension(
        x509.KeyUsage(
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            encipher_only=False,
            decipher_only=False,
            **usage_bits,
        ),
        critical=True,
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def make_pki(directory: Path, server_name: str, address: str) -> Pki:
    """A root CA, a server certificate for ``server_name`` and ``address``, a client one."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Accord Probe Test Root CA", ca_key, None)
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files: dict[str, tuple[Path, Path]] = {}
    for role, sans, usage in (
        (
            "server",
            [x509.DNSName(server_name), x509.IPAddress(ipaddress.ip_address(address))],
            ExtendedKeyUsageOID.SERVER_AUTH,
        ),
        ("client", [x509.DNSName("assessor.probe.test")], ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(f"{role}.probe.test", key, (ca, ca_key), sans=sans, usage=usage)
        files[role] = (directory / f"{role}.pem", directory / f"{role}.key")
        files[role][0].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, files[role][1])
    return Pki(directory / "ca.pem", files["server"], files["client"])


# --- loopback servers ------------------------------------------------------------------------


def loopback_address() -> str:
    """A random address of 127.0.0.0/8 (all of it is loopback on Linux)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"


def free_port(address: str, kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on at ``address`` (bound and released)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def endpoint_at(address: str, port: int) -> Endpoint:
    return Endpoint(address, port, address, port)


def server_context(
    pki: Pki,
    *,
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    ciphers: str | None = None,
    client_certificate: ssl.VerifyMode = ssl.CERT_NONE,
) -> ssl.SSLContext:
    """A server context with the test server certificate; TLS 1.0 allowed at SECLEVEL 0."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = minimum
    if minimum < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers(f"{ciphers or 'DEFAULT'}:@SECLEVEL=0")
    elif ciphers:
        context.set_ciphers(ciphers)
    context.load_cert_chain(*pki.server)
    context.verify_mode = client_certificate
    if client_certificate != ssl.CERT_NONE:
        context.load_verify_locations(pki.ca_file)
    return context


Handler = Callable[[socket.socket], None]


@contextmanager
def stream_server(
    address: str, context: ssl.SSLContext | None = None, handler: Handler | None = None
) -> Iterator[Endpoint]:
    """A TCP (or, with ``context``, TLS) server on ``address``: each connection is handed to
    ``handler`` after the handshake (by default, closed at once), in its own thread."""
    listener = socket.create_server((address, 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2.0)
            try:
                if context is not None:
                    conn = context.wrap_socket(conn, server_side=True)
                if handler is not None:
                    handler(conn)
            except (OSError, ssl.SSLError):
                pass  # the refusals under test
            finally:
                conn.close()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield endpoint_at(address, listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()


@contextmanager
def openssl_server(address: str, pki: Pki, tls13_suites: str) -> Iterator[Endpoint]:
    """OpenSSL's own ``s_server`` on ``address``, its TLS 1.3 suites restricted."""
    port = free_port(address)
    command = ["openssl", "s_server", "-accept", f"{address}:{port}", "-www", "-quiet"]
    command += ["-cert", str(pki.server[0]), "-key", str(pki.server[1])]
    server = subprocess.Popen(
        [*command, "-ciphersuites", tls13_suites],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((address, port), timeout=1).close()
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield endpoint_at(address, port)
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def address() -> str:
    return loopback_address()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, address: str) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), SERVER_NAME, address)


def test_this_openssl_can_offer_every_version_the_probe_claims():
    assert all(tls.client_allows(v) for v in tls.TLS_VERSIONS)


def test_tls_1_0_accepted_by_a_server_that_allows_it(address, pki):
    legacy = server_context(pki, minimum=ssl.TLSVersion.TLSv1)
    with stream_server(address, legacy) as endpoint:
        result = tls.negotiate(endpoint, server_name=SERVER_NAME, version="TLSv1")
    assert (result.connected, result.accepted, result.protocol) == (True, True, "TLSv1")
    assert result.cipher in result.offered
    assert "TLS_AES_128_GCM_SHA256" not in result.offered  # TLS 1.3 suites are not offered
    observed = result.observation()
    assert observed["offered_version"] == "TLSv1" and observed["accepted"] is True
    assert observed["sni"] == SERVER_NAME and observed["connected_to"] == str(endpoint)


def test_tls_1_0_and_1_1_refused_by_a_server_with_minimum_tls_1_2(address, pki):
    with stream_server(address, server_context(pki)) as endpoint:
        results = [
            tls.negotiate(endpoint, server_name=SERVER_NAME, version=v)
            for v in ("TLSv1", "TLSv1.1")
        ]
    for result in results:
        assert result.connected and not result.accepted and result.refused
        assert result.protocol is None and result.cipher is None
        assert "PROTOCOL_VERSION" in (result.error or ""), result.error
        assert result.observation()["error"] == result.error


def test_tls_1_3_and_1_2_accepted_and_reported(address, pki):
    with stream_server(address, server_context(pki)) as endpoint:
        modern = tls.negotiate(endpoint, server_name=SERVER_NAME, version="TLSv1.3")
        previous = tls.negotiate(endpoint, server_name=None, version="TLSv1.2")
    assert (modern.accepted, modern.protocol) == (True, "TLSv1.3")
    assert modern.cipher in modern.offered and modern.cipher.startswith("TLS_")
    assert (previous.accepted, previous.protocol, previous.server_name) == (True, "TLSv1.2", None)


def test_tls_1_3_refused_by_a_server_capped_at_tls_1_2(address, pki):
    capped = server_context(pki)
    capped.maximum_version = ssl.TLSVersion.TLSv1_2
    with stream_server(address, capped) as endpoint:
        result = tls.negotiate(endpoint, server_name=SERVER_NAME, version="TLSv1.3")
    assert result.refused and result.error


def test_chacha20_only_offer_refused_when_the_server_excludes_chacha20(address, pki):
    fips_like = server_context(pki, ciphers="ECDHE+AESGCM")
    with stream_server(address, fips_like) as endpoint:
        result = tls.negotiate(
            endpoint, server_name=SERVER_NAME, version="TLSv1.2", ciphers=CHACHA_ONLY
        )
    assert result.refused, result
    assert "HANDSHAKE_FAILURE" in (result.error or ""), result.error
    suites = [s for s in result.offered if not s.endswith("_SCSV")]
    assert suites == CHACHA_ONLY.split(":")
    assert result.observation()["offered_cipher_string"] == CHACHA_ONLY


def test_chacha20_only_offer_accepted_by_a_server_allowing_it(address, pki):
    with stream_server(address, server_context(pki)) as endpoint:
        result = tls.negotiate(
            endpoint, server_name=SERVER_NAME, version="TLSv1.2", ciphers=CHACHA_ONLY
        )
    assert result.accepted and result.cipher == "ECDHE-ECDSA-CHACHA20-POLY1305"


def test_closed_port_is_not_a_refused_version(address):
    endpoint = endpoint_at(address, free_port(address))
    result = tls.negotiate(endpoint, server_name=SERVER_NAME, version="TLSv1")
    assert not result.connected and not result.accepted and not result.refused
    assert "ConnectionRefusedError" in (result.error or "")
    assert result.observation()["connected"] is False


def test_tls_1_3_chacha20_only_offer_accepted_by_a_server_allowing_it(address, pki):
    with stream_server(address, server_context(pki)) as endpoint:
        result = tls.negotiate(
            endpoint, server_name=SERVER_NAME, version="TLSv1.3", ciphers=CHACHA13
        )
    assert result.offered == (CHACHA13,)  # offered alone (pyOpenSSL), not Python's defaults
    assert (result.accepted, result.protocol, result.cipher) == (True, "TLSv1.3", CHACHA13)
    assert result.observation()["offered_cipher_string"] == CHACHA13


def test_tls_1_3_chacha20_only_offer_refused_by_openssl_restricted_to_aes_gcm(address, pki):
    with openssl_server(address, pki, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256") as endpoint:
        chacha = tls.negotiate(endpoint, server_name=None, version="TLSv1.3", ciphers=CHACHA13)
        aes = tls.negotiate(
            endpoint, server_name=None, version="TLSv1.3", ciphers="TLS_AES_128_GCM_SHA256"
        )
    assert chacha.refused and "handshake failure" in (chacha.error or ""), chacha
    assert (aes.accepted, aes.cipher) == (True, "TLS_AES_128_GCM_SHA256"), aes


def test_this_client_can_offer_what_the_fips_probe_offers():
    assert tls.client_allows("TLSv1.3", CHACHA13)
    for version in ("TLSv1", "TLSv1.1", "TLSv1.2"):  # Camellia needs an RSA server key
        assert tls.client_allows(version, "ALL:!AES:!3DES"), version


def test_offers_the_probe_cannot_make_are_refused_before_connecting(address):
    endpoint = endpoint_at(address, free_port(address))
    with pytest.raises(ValueError, match="TLS 1.3 cipher suite"):
        tls.negotiate(endpoint, server_name=None, version="TLSv1.3", ciphers=CHACHA_ONLY)
    with pytest.raises(ValueError, match="cannot offer"):  # ChaCha20 needs TLS 1.2
        tls.negotiate(endpoint, server_name=None, version="TLSv1", ciphers=CHACHA_ONLY)
    with pytest.raises(ValueError, match="no cipher"):
        tls.negotiate(endpoint, server_name=None, version="TLSv1.2", ciphers="NO-SUCH-CIPHER")


def test_web_get_presents_a_client_certificate_when_the_server_requires_one(address, pki):
    context = server_context(pki, client_certificate=ssl.CERT_REQUIRED)

    def answer(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    with stream_server(address, context, answer) as endpoint:
        with_cert = tls.web_get(endpoint, SERVER_NAME, client_certificate=pki.client)
        without = tls.web_get(endpoint, SERVER_NAME)
    assert with_cert.status == 204, with_cert.error
    assert "client_certificate" in with_cert.observation()
    assert without.status is None and without.error
    assert "client_certificate" not in without.observation()
