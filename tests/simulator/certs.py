"""Certificates for the simulator's certificate tests: made here with ``cryptography`` and with
the ``openssl`` CLI (never with the simulator's own helpers, so they check it independently)."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)


def key_pem(key, passphrase: str = "") -> str:
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def name(cn: str, org: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return pem(self.cert)

    @property
    def key_pem(self) -> str:
        return key_pem(self.key)


class CA:
    """A root CA, optionally with an intermediate that signs the leaves."""

    def __init__(self, label: str = "Test", intermediate: bool = False, days: int = 3650) -> None:
        self.root = self._ca(name(f"{label} Root CA", "Accord tests"), None, days)
        self.intermediate = (
            self._ca(name(f"{label} Issuing CA", "Accord tests"), self.root, days)
            if intermediate
            else None
        )

    @staticmethod
    def _ca(subject: x509.Name, parent: Issued | None, days: int) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        issuer_name = parent.cert.subject if parent else subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        cert = builder.sign(parent.key if parent else key, hashes.SHA256())
        return Issued(cert, key)

    @property
    def signer(self) -> Issued:
        return self.intermediate or self.root

    def leaf(
        self,
        cn: str,
        *,
        sans: tuple[str, ...] | None = None,
        days: int = 365,
        serial: int | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
        start: dt.datetime | None = None,
    ) -> Issued:
        key = key or ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        names = sans if sans is not None else (cn,)
        return Issued(self.sign(subject, key.public_key(), names, days, serial, start), key)

    def sign(self, subject, public_key, sans, days=365, serial=None, start=None):
        start = start or NOW - dt.timedelta(days=1)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.signer.cert.subject)
            .public_key(public_key)
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if sans:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False
            )
        return builder.sign(self.signer.key, hashes.SHA256())

    def sign_csr(self, csr_pem: str, days: int = 365) -> x509.Certificate:
        """Issue a certificate for a CSR, keeping its subject and SANs (as a CA would)."""
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.signer.cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=days))
            .add_extension(sans, critical=False)
        )
        return builder.sign(self.signer.key, hashes.SHA256())


def openssl(*args: str, cwd: Path, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=True
    )
    return result.stdout


def openssl_self_signed(tmp: Path, kind: str, *extra: str) -> tuple[str, str]:
    """(certificate PEM, key PEM) made by ``openssl req -x509``; ``kind`` rsa or ec."""
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec"]
    if kind == "ec":
        newkey += ["-pkeyopt", "ec_paramgen_curve:P-256"]
    openssl(
        "req",
        "-x509",
        *newkey,
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "30",
        "-subj",
        f"/CN={kind}.openssl.example.com",
        *extra,
        cwd=tmp,
    )
    return (tmp / "cert.pem").read_text(), (tmp / "key.pem").read_text()
