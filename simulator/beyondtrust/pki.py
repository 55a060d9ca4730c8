"""The appliance's own certificate toolkit, on ``cryptography`` alone (never ``accord.pki``).

What the simulated appliance needs to read the files its Import button takes, write the files
its Export button gives, and look at certificates the way its Security > Certificates page and
its SNI selection do. It is the test double's own reading of the guide, independent of the
verifier's (see the package ``simulator``'s rule): a shared bug would hide in both.

- Reading: `pem_labels`, `pem_certificates`, `pkcs7_certificates` (in chain order, as a PKCS#7
  SET OF loses it), `read_private_key`, `read_pkcs12`. Each refusal is a `FileError` naming the
  form field at fault (``file`` or ``password``) and why, never what was sent.
- Writing: `to_pem`, `to_der`, `to_pkcs7`, `to_pkcs8`, `to_pkcs12`.
- Looking: `san_names`, `fingerprint`, `key_algorithm`, `pairs`, `is_ca`, `signed_by`, `is_address`,
  `is_self_signed`, `serves_name` (SNI: a subjectAltName, never the Common Name).
"""

from __future__ import annotations

import ipaddress
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

__all__ = [
    "CSR_LABELS",
    "KEY_LABELS",
    "FileError",
    "Pkcs12Contents",
    "fingerprint",
    "is_address",
    "is_ca",
    "is_self_signed",
    "key_algorithm",
    "pairs",
    "pem_certificates",
    "pem_labels",
    "pkcs7_certificates",
    "read_pkcs12",
    "read_private_key",
    "san_names",
    "serves_name",
    "signed_by",
    "to_der",
    "to_pem",
    "to_pkcs7",
    "to_pkcs8",
    "to_pkcs12",
]

CSR_LABELS = frozenset({"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"})
KEY_LABELS = frozenset(
    {"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}
)
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 .#/-]+)-----")
# cryptography warns when it reads a PKCS#7 SET OF that is BER (OpenSSL's crl2pkcs7 writes it).
_BER_WARNING = "PKCS#7 certificates could not be parsed as DER"
_UNREADABLE_PEM_KEY = "the PEM private key could not be parsed or is of an unsupported type"
_UNREADABLE_DER_KEY = "not a private key: neither PEM nor DER private key data"
Signed = x509.Certificate | x509.CertificateSigningRequest


class FileError(ValueError):
    """An uploaded file the appliance cannot take: ``field`` (``file`` or ``password``) and the
    reason, never the file's bytes or the password."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _password(password: str | None) -> bytes | None:
    return password.encode() if password else None


# --- reading ------------------------------------------------------------------------------


def pem_labels(raw: bytes) -> list[str]:
    """The labels of the PEM blocks in ``raw``, in order (``["CERTIFICATE", "PRIVATE KEY"]``)."""
    return [found.group(1).decode() for found in _PEM_BEGIN.finditer(raw)]


def pem_certificates(raw: bytes) -> list[x509.Certificate]:
    """Every CERTIFICATE block of PEM text, in order (other blocks are passed over)."""
    try:
        return x509.load_pem_x509_certificates(raw)
    except ValueError as error:
        raise FileError(f"a PEM CERTIFICATE block could not be parsed: {error}") from None


def pkcs7_certificates(raw: bytes) -> list[x509.Certificate]:
    """The certificates of a certificates-only PKCS#7 bundle (PEM or DER), in chain order."""
    pem = b"-----BEGIN" in raw
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _BER_WARNING, UserWarning)
        try:
            if pem:
                certs = pkcs7.load_pem_pkcs7_certificates(raw)
            else:
                certs = pkcs7.load_der_pkcs7_certificates(raw)
        except ValueError as error:
            raise FileError(f"not a certificates-only PKCS#7 bundle: {error}") from None
    return _chain_order(certs)


def _issuer_in(cert: x509.Certificate, pool: Iterable[x509.Certificate]) -> x509.Certificate | None:
    return next(
        (c for c in pool if c is not cert and c.subject == cert.issuer and signed_by(cert, c)),
        None,
    )


def _chain_order(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """Leaf first (a certificate that issued none of the others, preferably not self-signed),
    then its issuers up to a self-signed root; the others after, in their order; no twice."""
    pool = list(dict.fromkeys(certs))
    if not pool:
        return []
    issuing = {id(found) for c in pool if not is_self_signed(c) and (found := _issuer_in(c, pool))}
    ends = [c for c in pool if id(c) not in issuing]
    path = [next((c for c in ends if not is_self_signed(c)), ends[0] if ends else pool[0])]
    while not is_self_signed(path[-1]):
        issuer = _issuer_in(path[-1], [c for c in pool if c not in path])
        if issuer is None:
            break
        path.append(issuer)
    return path + [c for c in pool if c not in path]


def read_private_key(raw: bytes, password: str | None) -> PrivateKeyTypes:
    """A private key from PEM (the text may hold other blocks) or DER, PKCS#8 (encrypted or
    not) or traditional; a password given for a key that is not encrypted is not needed.

    `FileError` on ``password`` when the key is encrypted and the password is missing or
    wrong; on ``file`` when the data is no key this appliance reads."""
    pem = b"-----BEGIN" in raw
    load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    secret = _password(password)
    try:
        return load(raw, secret)
    except TypeError:  # a password for a plain key, or none for an encrypted one
        if secret is None:
            raise FileError("private key is encrypted: a password is needed", "password") from None
        try:
            return load(raw, None)
        except (ValueError, TypeError):
            pass
    except ValueError:
        pass
    if secret is not None and (_pem_encrypted(raw) if pem else _der_encrypted(raw)):
        raise FileError("could not decrypt the private key: wrong password", "password")
    raise FileError(_UNREADABLE_PEM_KEY if pem else _UNREADABLE_DER_KEY)


def _pem_encrypted(raw: bytes) -> bool:
    """An encrypted PKCS#8 block, or a traditional key with an encrypting Proc-Type."""
    return b"Proc-Type: 4,ENCRYPTED" in raw or "ENCRYPTED PRIVATE KEY" in pem_labels(raw)


def _der_encrypted(raw: bytes) -> bool:
    """What cryptography refuses to read without a password (and reads no other way)."""
    try:
        serialization.load_der_private_key(raw, None)
        return False
    except TypeError:
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Pkcs12Contents:
    """A PKCS#12 file's key, its certificate, the other certificates and the friendly name."""

    key: PrivateKeyTypes | None
    cert: x509.Certificate | None
    chain: tuple[x509.Certificate, ...]
    friendly_name: str | None


def read_pkcs12(raw: bytes, password: str | None) -> Pkcs12Contents:
    """What a PKCS#12 file holds; `FileError` on ``password`` when it cannot be opened."""
    try:
        loaded = pkcs12.load_pkcs12(raw, _password(password))
    except (ValueError, TypeError):
        raise FileError("wrong password for the PKCS#12 file", "password") from None
    own = loaded.cert
    name = own.friendly_name if own is not None else None
    return Pkcs12Contents(
        key=loaded.key,
        cert=own.certificate if own is not None else None,
        chain=tuple(extra.certificate for extra in loaded.additional_certs),
        friendly_name=name.decode() if name else None,
    )


# --- writing ------------------------------------------------------------------------------


def to_pem(*certs: x509.Certificate) -> str:
    """Certificates as concatenated PEM text."""
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def to_der(cert: x509.Certificate) -> bytes:
    """One certificate as DER (a ``.cer`` file)."""
    return cert.public_bytes(serialization.Encoding.DER)


def to_pkcs7(certs: Sequence[x509.Certificate]) -> bytes:
    """A DER certificates-only PKCS#7 bundle (a ``.p7b`` file)."""
    return pkcs7.serialize_certificates(list(certs), serialization.Encoding.DER)


def _protection(password: str | None) -> serialization.KeySerializationEncryption:
    secret = _password(password)
    if secret is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(secret)


def to_pkcs8(key: PrivateKeyTypes, password: str | None = None, *, der: bool = False) -> bytes:
    """A private key as PKCS#8 (PEM, or DER), encrypted with ``password`` when one is given."""
    encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
    return key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, _protection(password))


def to_pkcs12(
    key: CertificateIssuerPrivateKeyTypes,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    password: str | None,
    friendly_name: str | None,
) -> bytes:
    """A PKCS#12 file: the key, its certificate and chain, protected by ``password`` (none:
    written without encryption)."""
    name = friendly_name.encode() if friendly_name else None
    return pkcs12.serialize_key_and_certificates(
        name, key, cert, list(chain) or None, _protection(password)
    )


# --- looking ------------------------------------------------------------------------------


def san_names(signed: Signed) -> list[str]:
    """The DNS names and IP addresses (as text) of a certificate's or a CSR's subjectAltName,
    in its order."""
    try:
        names = signed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value if isinstance(name, x509.DNSName) else str(name.value)
        for name in names
        if isinstance(name, x509.DNSName | x509.IPAddress)
    ]


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint as the appliance shows it: ``AB:CD:...`` (upper-case pairs)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


_EDWARDS: dict[type, tuple[str, int]] = {
    ed25519.Ed25519PublicKey: ("Ed25519", 256),
    ed448.Ed448PublicKey: ("Ed448", 456),
}


def key_algorithm(signed: Signed) -> tuple[str, int]:
    """``("RSA", 2048)``, ``("ECDSA", 256)``...: the public key's algorithm and size."""
    key = signed.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA", key.curve.key_size
    for kind, named in _EDWARDS.items():
        if isinstance(key, kind):
            return named
    name = "RSA" if isinstance(key, rsa.RSAPublicKey) else type(key).__name__
    return name, getattr(key, "key_size", 0)


def _public_der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pairs(cert: x509.Certificate, key: PrivateKeyTypes) -> bool:
    """Whether ``key`` is the private half of the certificate's public key."""
    try:
        return _public_der(cert.public_key()) == _public_der(key.public_key())
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return False


def is_ca(cert: x509.Certificate) -> bool:
    """basicConstraints CA:TRUE."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s public key verifies ``cert``'s signature (names not compared),
    SHA-1 signatures included."""
    key = issuer.public_key()
    data, signature = cert.tbs_certificate_bytes, cert.signature
    try:
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
            return True
        digest = cert.signature_hash_algorithm
        if digest is None:
            return False
        if isinstance(key, rsa.RSAPublicKey):
            scheme = cert.signature_algorithm_parameters
            if not isinstance(scheme, padding.PSS | padding.PKCS1v15):
                scheme = padding.PKCS1v15()
            key.verify(signature, data, scheme, digest)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest))
            return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return False


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issued To equals Issued By and the certificate's own key verifies its signature."""
    return cert.subject == cert.issuer and signed_by(cert, cert)


def is_address(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address literal."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _wildcard_covers(pattern: str, host: str) -> bool:
    """``pattern`` is ``host``, or ``*.<rest>`` (rest of two labels or more) with ``host`` one
    whole label more than ``rest``."""
    pattern = pattern.rstrip(".").lower()
    if pattern == host:
        return True
    first, _, rest = pattern.partition(".")
    if first != "*" or "*" in rest or "." not in rest:
        return False
    label, _, host_rest = host.partition(".")
    return bool(label) and host_rest == rest


def serves_name(cert: x509.Certificate, server_name: str) -> bool:
    """Whether the certificate is for ``server_name`` (an SNI name): an IP address matches
    only an IP subjectAltName, a name a DNS one (case-insensitive, a trailing dot ignored, a
    wildcard standing for one whole left-most label). The Common Name never counts."""
    host = server_name.rstrip(".").lower()
    names = san_names(cert)
    if is_address(host):
        wanted = ipaddress.ip_address(host)
        return any(ipaddress.ip_address(n) == wanted for n in names if is_address(n))
    return any(_wildcard_covers(n, host) for n in names if not is_address(n))
