"""The listener's TLS material: a small per-start CA and a leaf for 127.0.0.1 / localhost.

ECDSA P-256 keys keep start-up fast. The CA has basicConstraints CA:TRUE (critical), keyUsage
keyCertSign/cRLSign and SKI; the leaf has a non-critical SAN (IP 127.0.0.1, DNS localhost),
SKI, AKI, serverAuth EKU and digitalSignature key usage — what strict clients (Python 3.13's
default context, ``cryptography``'s verifier) require. Only the CA certificate is written to
disk (it is public); the leaf key only passes through a 0600 temporary file that is deleted as
soon as the SSL context has loaded it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=7)


@dataclass(frozen=True)
class ListenerCredentials:
    """PEM of the CA certificate, the leaf certificate and the leaf's private key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Accord simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """keyUsage with the ``allowed`` bits set and every other one clear."""
    return x509.KeyUsage(**{usage: usage in allowed for usage in _USAGES})


def make_credentials(label: str, host: str = "127.0.0.1") -> ListenerCredentials:
    """A fresh CA and a leaf for ``host`` (plus 127.0.0.1 and localhost) signed by it."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{label} simulator CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("key_cert_sign", "crl_sign"), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for address in dict.fromkeys([host, "127.0.0.1"]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            names.append(x509.DNSName(address))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_key_usage("digital_signature"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ListenerCredentials(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def server_context(credentials: ListenerCredentials) -> ssl.SSLContext:
    """A TLS 1.2+ server context serving the leaf (and the CA as its chain)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    fd, name = tempfile.mkstemp(prefix="accord-sim-", suffix=".pem")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(credentials.key_pem + credentials.cert_pem + credentials.ca_pem)
        context.load_cert_chain(name)
    finally:
        Path(name).unlink(missing_ok=True)
    return context
