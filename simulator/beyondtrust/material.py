"""Certificate material of the simulated appliance: making, reading and classifying it.

Built on ``cryptography`` and the appliance's own toolkit (``pki``: loading, PKCS#7/PKCS#12,
signatures); nothing here writes PEM or ASN.1 by hand. Every error is a ``ValidationError``
naming the field (``file`` or ``password``) and never carrying key material, passwords or file
contents.

- Keys the appliance makes are RSA (``new_key``); imported keys may be RSA or ECDSA.
- ``self_signed`` and ``certificate_request`` build from a validated Create form: the subject
  as entered, the SANs in order, serverAuth; a self-signed certificate is valid for
  ``SELF_SIGNED_DAYS`` from an hour before creation (INFERRED: the guide gives no lifetime).
- ``factory_certificate``: the "BeyondTrust Appliance" certificate every appliance ships with:
  self-signed, ``CN=BeyondTrust Appliance``, no subject alternative names ("No Supported
  Names" in the guide's table), with its private key (INFERRED: 2048-bit RSA, ten years).
- ``classify``: the guide tells the chain's parts apart by Issued To / Issued By; here an
  entry holding a private key (or any non-CA certificate) is the ``server`` certificate, a CA
  certificate that is self-signed (Issued To == Issued By, its own key verifies it) the
  ``root``, any other CA certificate an ``intermediate``.
- ``issuer_path``: the issuers of a certificate found in a pool, by name and signature, up to a
  self-signed root, and whether that root was reached.
- ``read_import``: one uploaded file in any format the Import button takes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simulator.beyondtrust.errors import ValidationError
from simulator.beyondtrust.fields import CertificateForm
from simulator.beyondtrust.pki import (
    CSR_LABELS,
    KEY_LABELS,
    FileError,
    is_ca,
    is_self_signed,
    pairs,
    pem_certificates,
    pem_labels,
    pkcs7_certificates,
    read_pkcs12,
    read_private_key,
    signed_by,
)

__all__ = [
    "FACTORY_NAME",
    "ImportedFile",
    "Kind",
    "PrivateKey",
    "certificate_request",
    "classify",
    "dn_text",
    "factory_certificate",
    "issuer_path",
    "name_label",
    "new_key",
    "read_import",
    "self_signed",
]

Kind = Literal["server", "intermediate", "root"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
FACTORY_NAME = "BeyondTrust Appliance"
SELF_SIGNED_DAYS = 365
FACTORY_DAYS = 3650
_SLACK = dt.timedelta(hours=1)
KEY_WITHOUT_CERTIFICATE = (
    "the file holds a private key but no certificate: import the certificate together with its "
    "key (PEM with both, or PKCS#12)"
)
ACCEPTED = (
    "a DER or PEM X.509 certificate (.cer .der .crt .pem .b64), PKCS#7 certificates "
    "(.p7 .p7b .p7c) or a PKCS#12 file (.p12 .pfx) with its password"
)


def new_key(bits: int) -> rsa.RSAPrivateKey:
    """A new RSA key of ``bits`` bits."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name_label(name: x509.Name) -> str:
    """What the Issued To / Issued By columns show: the first Common Name, else the whole
    name (``dn_text``), else ``"(empty)"``."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        value = cns[0].value
        return value if isinstance(value, str) else value.decode()
    return dn_text(name) or "(empty)"


def dn_text(name: x509.Name) -> str:
    """The name as the Certificate Requests table shows it, Common Name first:
    ``CN=support.example.org, OU=Support, O=Business Company, L=Ridgeland, ST=MS, C=US``."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def _alt_names(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    return x509.SubjectAlternativeName([x509.DNSName(n) for n in names])


_LEAF_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
_SERVER_AUTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])


def _self_signed(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    now: dt.datetime,
    days: int,
    names: tuple[str, ...],
) -> x509.Certificate:
    start = now.replace(microsecond=0) - _SLACK
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_LEAF_USAGE, critical=True)
        .add_extension(_SERVER_AUTH, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
    )
    if names:
        builder = builder.add_extension(_alt_names(names), critical=False)
    return builder.sign(key, hashes.SHA256())


def self_signed(
    form: CertificateForm, key: rsa.RSAPrivateKey, now: dt.datetime
) -> x509.Certificate:
    """The self-signed certificate the Create Self-Signed Certificate button makes."""
    subject = form.subject.x509_name()
    return _self_signed(subject, key, now, SELF_SIGNED_DAYS, form.alternative_names)


def factory_certificate(key: rsa.RSAPrivateKey, now: dt.datetime) -> x509.Certificate:
    """The "BeyondTrust Appliance" certificate an appliance ships with (see module doc)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FACTORY_NAME)])
    return _self_signed(subject, key, now, FACTORY_DAYS, ())


def certificate_request(
    form: CertificateForm, key: rsa.RSAPrivateKey
) -> x509.CertificateSigningRequest:
    """The certificate signing request the Create Certificate Request button makes."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(form.subject.x509_name())
        .add_extension(_alt_names(form.alternative_names), critical=False)
        .add_extension(_SERVER_AUTH, critical=False)
        .sign(key, hashes.SHA256())
    )


def classify(cert: x509.Certificate, has_key: bool) -> Kind:
    """``server``, ``intermediate`` or ``root`` (see module doc)."""
    if has_key or not is_ca(cert):
        return "server"
    return "root" if is_self_signed(cert) else "intermediate"


def issuer_path(
    cert: x509.Certificate, pool: list[x509.Certificate]
) -> tuple[list[x509.Certificate], bool]:
    """(issuers of ``cert`` from ``pool`` in order, root last; whether a self-signed root was
    reached — ``True`` at once for a self-signed ``cert``)."""
    path: list[x509.Certificate] = []
    current = cert
    seen = {cert.fingerprint(hashes.SHA256())}
    while not is_self_signed(current):
        issuer = next(
            (
                c
                for c in pool
                if c.subject == current.issuer
                and c.fingerprint(hashes.SHA256()) not in seen
                and signed_by(current, c)
            ),
            None,
        )
        if issuer is None:
            return path, False
        path.append(issuer)
        seen.add(issuer.fingerprint(hashes.SHA256()))
        current = issuer
    return path, True


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedFile:
    """What one uploaded file holds: its certificates (in the file's order, duplicates
    dropped), a private key and the certificate it pairs with, a PKCS#12 friendly name."""

    certificates: tuple[x509.Certificate, ...]
    key: PrivateKey | None = field(default=None, repr=False)
    key_certificate: x509.Certificate | None = None
    friendly_name: str | None = None


@asn1.sequence
class _ContentInfo:
    content_type: asn1.TLV
    content: asn1.TLV


@asn1.sequence
class _MacData:
    mac: asn1.TLV
    salt: bytes
    iterations: int


@asn1.sequence
class _Pfx:
    """RFC 7292 PFX, read only to tell a PKCS#12 file with a wrong password from garbage."""

    version: int
    auth_safe: _ContentInfo
    mac_data: _MacData | None


def _is_pkcs12(raw: bytes) -> bool:
    try:
        return asn1.decode_der(_Pfx, raw).version == 3
    except (ValueError, TypeError):
        return False


def _bad(message: str, field: str = "file") -> ValidationError:
    return ValidationError(message, field)


def _refused(error: FileError) -> ValidationError:
    return _bad(error.message, error.field)


def _checked_key(key: PrivateKeyTypes | None) -> PrivateKey | None:
    if key is None or isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise _bad("the private key is of an unsupported type (RSA and ECDSA keys are accepted)")


def _unique(certs: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    return tuple(dict.fromkeys(certs))


def _finish(
    certs: list[x509.Certificate], key: PrivateKeyTypes | None, friendly_name: str | None = None
) -> ImportedFile:
    checked = _checked_key(key)
    if not certs:
        if checked is not None:
            raise _bad(KEY_WITHOUT_CERTIFICATE)
        raise _bad(f"the file holds no certificate: upload {ACCEPTED}")
    unique = _unique(certs)
    paired = next((c for c in unique if pairs(c, checked)), None) if checked is not None else None
    if checked is not None and paired is None:
        raise _bad("the private key does not match any certificate in the file")
    return ImportedFile(unique, checked, paired, friendly_name or None)


def _read_pem(raw: bytes, password: str | None) -> ImportedFile:
    labels = pem_labels(raw)
    if CSR_LABELS.intersection(labels):
        raise _bad(
            "the file is a certificate signing request (CSR): submit it to a certificate "
            "authority and import the certificate it signs"
        )
    if sum(1 for label in labels if label in KEY_LABELS) > 1:
        raise _bad("the file holds more than one private key")
    try:
        if "PKCS7" in labels:
            certs = pkcs7_certificates(raw)
        elif "CERTIFICATE" in labels:
            certs = pem_certificates(raw)
        else:
            certs = []
    except FileError as error:
        raise _refused(error) from None
    key = None
    if KEY_LABELS.intersection(labels):
        if not certs:
            raise _bad(KEY_WITHOUT_CERTIFICATE)
        try:
            key = read_private_key(raw, password)
        except FileError as error:
            raise _refused(error) from None
    return _finish(certs, key)


def _read_der(raw: bytes, password: str | None) -> ImportedFile:
    try:
        return _finish([x509.load_der_x509_certificate(raw)], None)
    except ValueError:
        pass
    try:
        return _finish(pkcs7_certificates(raw), None)
    except FileError:
        pass
    try:
        x509.load_der_x509_csr(raw)
    except ValueError:
        pass
    else:
        raise _bad("the file is a certificate signing request (CSR), not a certificate")
    if _is_pkcs12(raw):
        if not password:
            raise _bad("the file is PKCS#12: its password is needed", "password")
        try:
            p12 = read_pkcs12(raw, password)
        except FileError as error:
            raise _refused(error) from None
        certs = [*([p12.cert] if p12.cert else []), *p12.chain]
        return _finish(certs, p12.key, p12.friendly_name)
    try:
        read_private_key(raw, password)
    except FileError as error:
        if error.field != "password":  # not an encrypted key either: unreadable
            truncated = raw[:1] == b"\x30"  # a DER SEQUENCE that did not parse
            hint = " (the DER data looks truncated or corrupt)" if truncated else ""
            raise _bad(f"the file could not be read{hint}: upload {ACCEPTED}") from None
    raise _bad(KEY_WITHOUT_CERTIFICATE)


def read_import(data: bytes, password: str | None = None) -> ImportedFile:
    """Read one uploaded certificate file: DER or PEM certificate(s) (a PEM file may carry
    the private key, encrypted with ``password`` or not), PKCS#7 (DER or PEM), or PKCS#12
    (needs ``password``).

    ``ValidationError`` (field ``file``): empty, unreadable, truncated, a CSR, a key without
    a certificate, a key matching none of the certificates, several keys, an unsupported key
    type. Field ``password``: a PKCS#12 file or encrypted key without its password, or with a
    wrong one.
    """
    if not data:
        raise _bad("the file is empty")
    if b"-----BEGIN" in data:
        return _read_pem(data, password)
    return _read_der(data, password)
