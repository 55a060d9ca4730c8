"""Conversions between PEM, DER, PKCS#7, PKCS#8 and PKCS#12, all through cryptography's serializers.

These are the formats the vendors' import and export screens use: Pexip downloads PEM or
PKCS#12 (PFX); BeyondTrust imports DER, PEM, PKCS#7 and PKCS#12 and exports a certificate as DER,
a key as PKCS#8, several certificates as PKCS#7 and a certificate with key and chain as PKCS#12.
Passphrases are ``str`` (UTF-8) or ``bytes``; wrong ones give :class:`PkiError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from accord.pki.ca import IssuerKey, to_pem
from accord.pki.errors import PkiError
from accord.pki.inspect import sort_chain
from accord.pki.parse import (
    as_bytes,
    load_certificate,
    load_pem_certificates,
    passphrase_bytes,
    pem_labels,
)

__all__ = [
    "Encoding",
    "Pkcs12",
    "certificate_to_der",
    "certificates_to_pem",
    "der_to_pem",
    "from_pkcs7",
    "from_pkcs12",
    "pem_to_der",
    "private_key_to_pkcs8",
    "read_certificates",
    "to_pkcs7",
    "to_pkcs12",
]

Encoding = Literal["pem", "der"]
_ENCODINGS = {"pem": serialization.Encoding.PEM, "der": serialization.Encoding.DER}


_BER_FALLBACK = "PKCS#7 certificates could not be parsed as DER"


def _encoding(encoding: Encoding) -> serialization.Encoding:
    try:
        return _ENCODINGS[encoding]
    except KeyError:
        raise PkiError(f"unknown encoding {encoding!r}: use 'pem' or 'der'") from None


# --- single certificates ----------------------------------------------------------------------


def certificate_to_der(cert: x509.Certificate) -> bytes:
    """A certificate as DER bytes."""
    return cert.public_bytes(serialization.Encoding.DER)


def certificates_to_pem(certs: Iterable[x509.Certificate]) -> str:
    """Certificates as concatenated PEM text."""
    return to_pem(*certs)


def pem_to_der(pem: str | bytes) -> bytes:
    """The first certificate of PEM text as DER."""
    return certificate_to_der(load_pem_certificates(pem)[0])


def der_to_pem(der: bytes) -> str:
    """A DER certificate as PEM text (a DER CSR gives :class:`PkiError`)."""
    return to_pem(load_certificate(der))


# --- PKCS#7 -----------------------------------------------------------------------------------


def to_pkcs7(certs: Sequence[x509.Certificate], *, encoding: Encoding = "pem") -> bytes:
    """A certificates-only PKCS#7 (SignedData) bundle, as ``.p7b`` files carry chains."""
    if not certs:
        raise PkiError("a PKCS#7 bundle needs at least one certificate")
    return pkcs7.serialize_certificates(list(certs), _encoding(encoding))


def from_pkcs7(data: str | bytes) -> list[x509.Certificate]:
    """The certificates of a PKCS#7 bundle, PEM (``-----BEGIN PKCS7-----``) or DER.

    The bundle stores a SET OF certificates, whose encoding reorders them; they are returned in
    chain order (leaf first, see :func:`accord.pki.sort_chain`). Bundles OpenSSL writes
    (``openssl crl2pkcs7``) are BER, not DER, in that set; they are read without a warning.
    """
    raw = as_bytes(data)
    load = (
        pkcs7.load_pem_pkcs7_certificates
        if b"-----BEGIN" in raw
        else pkcs7.load_der_pkcs7_certificates
    )
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", _BER_FALLBACK, UserWarning)
            certs = load(raw)
    except ValueError as exc:
        raise PkiError(f"not a certificates-only PKCS#7 bundle: {exc}") from None
    return sort_chain(certs)


# --- PKCS#8 -----------------------------------------------------------------------------------


def private_key_to_pkcs8(
    key: PrivateKeyTypes,
    passphrase: str | bytes | None = None,
    *,
    encoding: Encoding = "pem",
) -> bytes:
    """A private key as PKCS#8, encrypted (cryptography's best available: PBES2 with AES-256)
    when a passphrase is given. Read it back with :func:`accord.pki.load_private_key`."""
    password = passphrase_bytes(passphrase)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(_encoding(encoding), serialization.PrivateFormat.PKCS8, encryption)


# --- PKCS#12 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pkcs12:
    """What a PKCS#12 file holds: the key, its certificate, the other certificates (chain) and the
    friendly name of the certificate."""

    key: PrivateKeyTypes | None
    cert: x509.Certificate | None
    chain: tuple[x509.Certificate, ...]
    friendly_name: str | None


def to_pkcs12(
    key: IssuerKey | None,
    cert: x509.Certificate | None,
    chain: Sequence[x509.Certificate] = (),
    *,
    passphrase: str | bytes | None,
    friendly_name: str | None = None,
    legacy: bool = False,
) -> bytes:
    """A PKCS#12 (PFX) file with key, certificate and chain, protected by ``passphrase``.

    The default encryption is cryptography's best available (AES-256, PBKDF2), which OpenSSL 3
    reads; ``legacy=True`` uses 3DES with SHA-1 MACs for old Windows and Java importers.
    """
    password = passphrase_bytes(passphrase)
    encryption: serialization.KeySerializationEncryption
    if password is None:
        encryption = serialization.NoEncryption()
    elif legacy:
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(password)
        )
    else:
        encryption = serialization.BestAvailableEncryption(password)
    name = friendly_name.encode() if friendly_name else None
    return pkcs12.serialize_key_and_certificates(name, key, cert, list(chain) or None, encryption)


def from_pkcs12(data: bytes, passphrase: str | bytes | None) -> Pkcs12:
    """Read a PKCS#12 file; a wrong passphrase (or data that is not PKCS#12) gives
    :class:`PkiError`."""
    try:
        p12 = pkcs12.load_pkcs12(data, passphrase_bytes(passphrase))
    except (ValueError, TypeError):
        raise PkiError("could not read the PKCS#12 file: wrong passphrase or not PKCS#12") from None
    name = p12.cert.friendly_name if p12.cert else None
    return Pkcs12(
        key=p12.key,
        cert=p12.cert.certificate if p12.cert else None,
        chain=tuple(c.certificate for c in p12.additional_certs),
        friendly_name=name.decode() if name else None,
    )


# --- any of them ------------------------------------------------------------------------------


def read_certificates(
    data: str | bytes, passphrase: str | bytes | None = None
) -> list[x509.Certificate]:
    """Every certificate in a file of any supported format, as an import screen reads it.

    PEM (certificates or a PKCS7 block), DER certificate, DER PKCS#7, or PKCS#12 (needs the
    passphrase; its own certificate comes first). A CSR gives :class:`PkiError`.
    """
    raw = as_bytes(data)
    if b"-----BEGIN" in raw:
        if "PKCS7" in pem_labels(raw):
            return from_pkcs7(raw)
        return load_pem_certificates(raw)
    try:
        return [x509.load_der_x509_certificate(raw)]
    except ValueError:
        pass
    try:
        return from_pkcs7(raw)
    except PkiError:
        pass
    try:
        x509.load_der_x509_csr(raw)
    except ValueError:
        pass
    else:
        raise PkiError(
            "a certificate signing request (CSR) was given where a certificate is expected"
        )
    p12 = from_pkcs12(raw, passphrase)
    return [*([p12.cert] if p12.cert else []), *p12.chain]
