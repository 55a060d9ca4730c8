"""Reading certificates, CSRs and private keys, with errors that say what was given instead.

Every loader takes ``str`` or ``bytes``. PEM text may hold several blocks (Pexip accepts a
certificate with its chain, private key and DH parameters appended in one file); each loader picks
the blocks it needs and raises :class:`PkiError` naming the wrong kind of input otherwise
(a CSR where a certificate is expected, a certificate where a key is expected, ...).
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from accord.pki.errors import PkiError

__all__ = [
    "as_bytes",
    "load_certificate",
    "load_csr",
    "load_pem_certificates",
    "load_private_key",
    "passphrase_bytes",
    "pem_blocks",
    "pem_labels",
]

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 .#/-]+)-----")
_BLOCK = re.compile(
    rb"-----BEGIN (?P<label>[A-Z0-9 .#/-]+)-----(?P<body>.*?)-----END (?P=label)-----", re.S
)

CSR_LABELS = frozenset({"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"})
KEY_LABELS = frozenset(
    {"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}
)

_KINDS = {
    "CERTIFICATE": "a certificate",
    "TRUSTED CERTIFICATE": "an OpenSSL trusted certificate",
    "CERTIFICATE REQUEST": "a certificate signing request (CSR)",
    "NEW CERTIFICATE REQUEST": "a certificate signing request (CSR)",
    "PRIVATE KEY": "a private key",
    "ENCRYPTED PRIVATE KEY": "an encrypted private key",
    "RSA PRIVATE KEY": "a private key",
    "EC PRIVATE KEY": "a private key",
    "PUBLIC KEY": "a public key",
    "DH PARAMETERS": "DH parameters",
    "X9.42 DH PARAMETERS": "DH parameters",
    "EC PARAMETERS": "EC parameters",
    "PKCS7": "a PKCS#7 bundle",
    "X509 CRL": "a certificate revocation list",
}


def as_bytes(data: str | bytes) -> bytes:
    """``data`` as bytes (``str`` is encoded as UTF-8)."""
    return data.encode() if isinstance(data, str) else bytes(data)


def passphrase_bytes(passphrase: str | bytes | None) -> bytes | None:
    """A passphrase as bytes for cryptography; ``None`` and ``""`` mean no passphrase."""
    if passphrase is None or passphrase in ("", b""):
        return None
    return as_bytes(passphrase)


def pem_labels(data: str | bytes) -> list[str]:
    """The labels of the PEM blocks in ``data``, in order (``["CERTIFICATE", "PRIVATE KEY"]``)."""
    return [m.group(1).decode() for m in _BEGIN.finditer(as_bytes(data))]


def pem_blocks(data: str | bytes, *labels: str) -> list[tuple[str, bytes]]:
    """``(label, DER)`` for each PEM block in ``data`` with one of ``labels`` (any if none).

    Only for PEM types that cryptography has no loader for (DH and EC parameters); certificates,
    keys, CSRs and PKCS#7 always go through cryptography's own PEM readers.
    """
    found = []
    for m in _BLOCK.finditer(as_bytes(data)):
        label = m.group("label").decode()
        if labels and label not in labels:
            continue
        try:
            der = base64.b64decode(b"".join(m.group("body").split()), validate=True)
        except binascii.Error:
            raise PkiError(f"the PEM {label} block is not valid base64") from None
        found.append((label, der))
    return found


def _is_pem(data: bytes) -> bool:
    return _BEGIN.search(data) is not None


def _kinds(labels: list[str]) -> str:
    kinds = dict.fromkeys(_KINDS.get(label, f"a PEM {label} block") for label in labels)
    return " and ".join(kinds)


def load_pem_certificates(data: str | bytes) -> list[x509.Certificate]:
    """Every certificate in PEM text, in order; other blocks (keys, DH parameters) are ignored.

    Raises :class:`PkiError` when the text holds a CSR (a CSR is never a certificate, as the TLS
    certificate upload rule says) or no certificate at all.
    """
    raw = as_bytes(data)
    labels = pem_labels(raw)
    if CSR_LABELS.intersection(labels):
        raise PkiError(
            "a certificate signing request (CSR) was given where a certificate is expected"
        )
    if "CERTIFICATE" not in labels:
        if labels:
            raise PkiError(f"no certificate found: the PEM text holds {_kinds(labels)}")
        raise PkiError("no certificate found: the text is not PEM")
    try:
        return x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise PkiError(f"a PEM CERTIFICATE block could not be parsed: {exc}") from None


def load_certificate(data: str | bytes) -> x509.Certificate:
    """One certificate from PEM (the first one) or DER; a CSR gives :class:`PkiError`."""
    raw = as_bytes(data)
    if _is_pem(raw):
        return load_pem_certificates(raw)[0]
    try:
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        pass
    try:
        x509.load_der_x509_csr(raw)
    except ValueError:
        raise PkiError("not a certificate: neither PEM nor DER X.509 data") from None
    raise PkiError("a certificate signing request (CSR) was given where a certificate is expected")


def load_csr(data: str | bytes) -> x509.CertificateSigningRequest:
    """A certificate signing request from PEM or DER; anything else gives :class:`PkiError`."""
    raw = as_bytes(data)
    if _is_pem(raw):
        labels = pem_labels(raw)
        if not CSR_LABELS.intersection(labels):
            raise PkiError(f"no CSR found: the PEM text holds {_kinds(labels)}")
        try:
            return x509.load_pem_x509_csr(raw)
        except ValueError as exc:
            raise PkiError(f"the PEM CSR could not be parsed: {exc}") from None
    try:
        return x509.load_der_x509_csr(raw)
    except ValueError:
        raise PkiError("not a certificate signing request: neither PEM nor DER CSR data") from None


def load_private_key(data: str | bytes, passphrase: str | bytes | None = None) -> PrivateKeyTypes:
    """A private key from PEM (PKCS#8, encrypted PKCS#8, traditional RSA/EC) or DER.

    PEM text may hold other blocks too (a certificate with its key appended). A passphrase given
    for a key that is not encrypted is ignored. Errors (never with key data or passphrase):

    - ``private key is encrypted: a passphrase is needed``
    - ``could not decrypt the private key: wrong passphrase``
    - ``no private key found: the PEM text holds a certificate`` (and the like)
    - ``not a private key ...`` for anything else.
    """
    raw = as_bytes(data)
    password = passphrase_bytes(passphrase)
    pem = _is_pem(raw)
    if pem:
        labels = pem_labels(raw)
        if not KEY_LABELS.intersection(labels):
            raise PkiError(f"no private key found: the PEM text holds {_kinds(labels)}")
    load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    needs_passphrase = False
    try:
        return load(raw, password)
    except TypeError as exc:
        # cryptography: "Password was not given but private key is encrypted", or "Password was
        # given but private key is not encrypted."
        if password is not None and "not encrypted" in str(exc):
            try:
                return load(raw, None)
            except (ValueError, TypeError):
                pass
        else:
            needs_passphrase = password is None
    except ValueError:
        pass
    if needs_passphrase:
        raise PkiError("private key is encrypted: a passphrase is needed")
    if password is not None and _looks_encrypted(raw, pem):
        raise PkiError("could not decrypt the private key: wrong passphrase") from None
    if pem:
        raise PkiError("the PEM private key could not be parsed or is of an unsupported type")
    raise PkiError("not a private key: neither PEM nor DER private key data")


def _looks_encrypted(raw: bytes, pem: bool) -> bool:
    if pem:
        return "ENCRYPTED PRIVATE KEY" in pem_labels(raw) or b"Proc-Type: 4,ENCRYPTED" in raw
    try:
        serialization.load_der_private_key(raw, None)
    except TypeError:
        return True
    except ValueError:
        return False
    return False
