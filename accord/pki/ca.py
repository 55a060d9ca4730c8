"""A certificate authority for labs and tests: root → intermediate → leaf, RSA or ECDSA.

Shaped like trustme, but every certificate is built to pass strict verifiers (Python's
``VERIFY_X509_STRICT``, cryptography's ``PolicyBuilder``): subject and authority key identifiers
on every certificate, basicConstraints critical with a path length on CAs, keyUsage critical and
subjectAltName non-critical (critical only when the subject is empty, as RFC 5280 §4.2.1.6 asks).

Time is injectable: every issuing method takes ``now=`` (default: the current UTC time), so tests
can make certificates that are expired or have a given number of days left. Validity starts one
hour before ``now`` and lasts ``days`` days, unless ``not_before`` / ``not_after`` are given.

``cryptography`` signs with SHA-256 (SHA-384 for P-384 keys) and cannot sign with SHA-1; SHA-1
certificates for "Weak signature" tests come from the ``openssl`` command line.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.asn1 import encode_der
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from accord.pki.errors import PkiError
from accord.pki.parse import load_csr, passphrase_bytes

__all__ = [
    "CA",
    "EKU_OIDS",
    "UPN_OID",
    "IssuerKey",
    "KeyType",
    "LeafCert",
    "generate_key",
    "new_csr",
    "private_key_pem",
    "self_signed_cert",
    "to_pem",
]

KeyType = Literal["ecdsa", "ecdsa-p384", "rsa"]
IssuerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: Extended key usage names (as OpenSSL spells them) and their OIDs.
EKU_OIDS: dict[str, x509.ObjectIdentifier] = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
}
#: Microsoft's userPrincipalName otherName, used in client certificates for smart-card style logon.
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")

_SLACK = dt.timedelta(hours=1)


def generate_key(key_type: KeyType = "ecdsa", *, rsa_bits: int = 2048) -> IssuerKey:
    """A new private key: ECDSA P-256 (``"ecdsa"``), P-384 (``"ecdsa-p384"``) or RSA."""
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    raise PkiError(f"unknown key type {key_type!r}: use 'ecdsa', 'ecdsa-p384' or 'rsa'")


def to_pem(*certs: x509.Certificate) -> str:
    """Certificates as concatenated PEM text."""
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def private_key_pem(key: IssuerKey, passphrase: str | bytes | None = None) -> str:
    """A private key as PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
    password = passphrase_bytes(passphrase)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _hash_for(key: IssuerKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _window(
    now: dt.datetime | None,
    days: int,
    not_before: dt.datetime | None,
    not_after: dt.datetime | None,
) -> tuple[dt.datetime, dt.datetime]:
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    if start.tzinfo is None:
        raise PkiError("times must be timezone-aware (e.g. datetime.UTC)")
    before = not_before or start - _SLACK
    after = not_after or start + dt.timedelta(days=days)
    if after <= before:
        raise PkiError("not_after must be later than not_before")
    return before, after


def _general_names(names: Sequence[str], upn: str | None) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    if upn is not None:
        out.append(x509.OtherName(UPN_OID, encode_der(upn)))
    return out


def _eku(names: Sequence[str | x509.ObjectIdentifier]) -> x509.ExtendedKeyUsage | None:
    """The extension for ``names``; None for none (RFC 5280 has no empty extended key usage,
    and cryptography 51 refuses to make one): the certificate then has no such extension."""
    oids = []
    for name in names:
        if isinstance(name, x509.ObjectIdentifier):
            oids.append(name)
        elif name in EKU_OIDS:
            oids.append(EKU_OIDS[name])
        else:
            raise PkiError(f"unknown extended key usage {name!r}: use one of {sorted(EKU_OIDS)}")
    return x509.ExtendedKeyUsage(oids) if oids else None


def _leaf_key_usage(public_key: CertificatePublicKeyTypes) -> x509.KeyUsage:
    rsa_key = isinstance(public_key, rsa.RSAPublicKey)
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _sign(
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    issuer_name: x509.Name,
    issuer_key: IssuerKey,
    window: tuple[dt.datetime, dt.datetime],
    extensions: Sequence[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    """Build and sign a certificate with SKI and AKI (keyid of the issuer's public key)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(issuer_key, _hash_for(issuer_key))


def _leaf_extensions(
    public_key: CertificatePublicKeyTypes,
    san: Sequence[x509.GeneralName],
    eku: x509.ExtendedKeyUsage | None,
    empty_subject: bool,
) -> list[tuple[x509.ExtensionType, bool]]:
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_leaf_key_usage(public_key), True),
    ]
    if eku is not None:
        exts.append((eku, False))
    if san:
        exts.append((x509.SubjectAlternativeName(san), empty_subject))
    return exts


def _subject(common_name: str | None) -> x509.Name:
    if not common_name:
        return x509.Name([])
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class LeafCert:
    """An end-entity certificate with its private key.

    ``chain`` is what a server presents: the leaf first, then each issuing CA up to but *excluding*
    the root (empty of CAs for a certificate the root signed directly; just the certificate for a
    self-signed one). ``root`` is the trust anchor (the certificate itself when self-signed).
    """

    cert: x509.Certificate
    key: IssuerKey
    chain: tuple[x509.Certificate, ...]
    root: x509.Certificate

    @property
    def cert_pem(self) -> str:
        """The leaf certificate alone, PEM."""
        return to_pem(self.cert)

    @property
    def chain_pem(self) -> str:
        """Leaf then intermediates, PEM (no root): what a server serves and Pexip uploads."""
        return to_pem(*self.chain)

    @property
    def root_pem(self) -> str:
        """The root certificate, PEM."""
        return to_pem(self.root)

    def key_pem(self, passphrase: str | bytes | None = None) -> str:
        """The private key as PKCS#8 PEM, encrypted when a passphrase is given."""
        return private_key_pem(self.key, passphrase)


@dataclass(frozen=True)
class CA:
    """A certificate authority (root or intermediate) that issues certificates.

    Make a root with :meth:`CA.new`; ``parent`` is ``None`` for a root.
    """

    cert: x509.Certificate
    key: IssuerKey
    parent: CA | None = field(default=None, repr=False)

    @classmethod
    def new(
        cls,
        name: str = "Accord Test Root CA",
        *,
        key_type: KeyType = "ecdsa",
        rsa_bits: int = 2048,
        path_length: int | None = None,
        now: dt.datetime | None = None,
        days: int = 3650,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> CA:
        """A self-signed root CA named ``CN=name``."""
        key = generate_key(key_type, rsa_bits=rsa_bits)
        subject = _subject(name)
        cert = _sign(
            subject=subject,
            public_key=key.public_key(),
            issuer_name=subject,
            issuer_key=key,
            window=_window(now, days, not_before, not_after),
            extensions=[
                (x509.BasicConstraints(ca=True, path_length=path_length), True),
                (_CA_KEY_USAGE, True),
            ],
        )
        return cls(cert=cert, key=key)

    @property
    def path_length(self) -> int | None:
        """This CA's basicConstraints pathLenConstraint (``None``: unlimited)."""
        return self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length

    @property
    def path(self) -> tuple[x509.Certificate, ...]:
        """This CA's certificate then each issuer's up to and including the root."""
        return (self.cert, *(self.parent.path if self.parent else ()))

    @property
    def root(self) -> x509.Certificate:
        """The root certificate at the top of this CA's path."""
        return self.path[-1]

    @property
    def cert_pem(self) -> str:
        """This CA's certificate, PEM."""
        return to_pem(self.cert)

    @property
    def path_pem(self) -> str:
        """This CA's certificate and every issuer up to the root, PEM: a trusted CA bundle."""
        return to_pem(*self.path)

    def key_pem(self, passphrase: str | bytes | None = None) -> str:
        """This CA's private key as PKCS#8 PEM, encrypted when a passphrase is given."""
        return private_key_pem(self.key, passphrase)

    def issue_intermediate(
        self,
        name: str = "Accord Test Intermediate CA",
        *,
        key_type: KeyType = "ecdsa",
        rsa_bits: int = 2048,
        path_length: int | None = 0,
        now: dt.datetime | None = None,
        days: int = 1825,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> CA:
        """A subordinate CA named ``CN=name`` (path length 0 by default: it issues leaves only)."""
        if self.path_length == 0:
            raise PkiError("this CA has path length 0: it cannot issue another CA")
        key = generate_key(key_type, rsa_bits=rsa_bits)
        cert = _sign(
            subject=_subject(name),
            public_key=key.public_key(),
            issuer_name=self.cert.subject,
            issuer_key=self.key,
            window=_window(now, days, not_before, not_after),
            extensions=[
                (x509.BasicConstraints(ca=True, path_length=path_length), True),
                (_CA_KEY_USAGE, True),
            ],
        )
        return CA(cert=cert, key=key, parent=self)

    def issue_cert(
        self,
        *names: str,
        common_name: str | None = None,
        empty_subject: bool = False,
        upn: str | None = None,
        eku: Sequence[str | x509.ObjectIdentifier] = ("serverAuth",),
        key_type: KeyType = "ecdsa",
        rsa_bits: int = 2048,
        key: IssuerKey | None = None,
        now: dt.datetime | None = None,
        days: int = 365,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> LeafCert:
        """An end-entity certificate for DNS names, wildcards (``*.example.com``) and IP addresses.

        ``names`` become subjectAltName entries (IP literals as iPAddress); ``upn`` adds a
        userPrincipalName otherName (for client certificates use ``eku=("clientAuth",)``). The
        subject is ``CN=common_name``, by default the first name (or the UPN); ``empty_subject``
        leaves the subject empty (SAN-only, the guide's "Empty subject"). With no names and no UPN
        the certificate has no SAN extension at all. ``key`` reuses an existing key (renewals).
        """
        san = _general_names(names, upn)
        cn = None if empty_subject else (common_name or (names[0] if names else upn))
        if cn is None and not san:
            raise PkiError("a certificate needs a common name or at least one SAN entry")
        leaf_key = key or generate_key(key_type, rsa_bits=rsa_bits)
        cert = _sign(
            subject=_subject(cn),
            public_key=leaf_key.public_key(),
            issuer_name=self.cert.subject,
            issuer_key=self.key,
            window=_window(now, days, not_before, not_after),
            extensions=_leaf_extensions(leaf_key.public_key(), san, _eku(eku), cn is None),
        )
        return LeafCert(cert=cert, key=leaf_key, chain=(cert, *self.path[:-1]), root=self.root)

    def sign_csr(
        self,
        csr: str | bytes | x509.CertificateSigningRequest,
        *,
        eku: Sequence[str | x509.ObjectIdentifier] | None = None,
        now: dt.datetime | None = None,
        days: int = 365,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> x509.Certificate:
        """Issue a certificate for a CSR (PEM, DER or parsed), as a CA would.

        The subject is the CSR's; the requested subjectAltName is copied (non-critical unless the
        subject is empty); extended key usage is ``eku`` when given, else the CSR's requested one,
        else serverAuth. Other requested extensions are not copied. A CSR whose signature does not
        verify gives :class:`PkiError`.
        """
        request = csr if isinstance(csr, x509.CertificateSigningRequest) else load_csr(csr)
        if not request.is_signature_valid:
            raise PkiError("the CSR's signature does not verify")
        public_key = request.public_key()
        requested = {ext.oid: ext.value for ext in request.extensions}
        san_ext = requested.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        san = list(san_ext) if isinstance(san_ext, x509.SubjectAlternativeName) else []
        if eku is not None:
            usage: x509.ExtendedKeyUsage | None = _eku(eku)
        else:
            asked = requested.get(ExtensionOID.EXTENDED_KEY_USAGE)
            usage = asked if isinstance(asked, x509.ExtendedKeyUsage) else _eku(("serverAuth",))
        return _sign(
            subject=request.subject,
            public_key=public_key,
            issuer_name=self.cert.subject,
            issuer_key=self.key,
            window=_window(now, days, not_before, not_after),
            extensions=_leaf_extensions(public_key, san, usage, len(request.subject) == 0),
        )


def self_signed_cert(
    *names: str,
    common_name: str | None = None,
    eku: Sequence[str | x509.ObjectIdentifier] = ("serverAuth",),
    key_type: KeyType = "ecdsa",
    rsa_bits: int = 2048,
    key: IssuerKey | None = None,
    now: dt.datetime | None = None,
    days: int = 365,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> LeafCert:
    """A self-signed end-entity certificate, like the one a Pexip node ships with ("Temporary").

    (Pexip's shipped ones have 4096-bit RSA keys: ``key_type="rsa", rsa_bits=4096``; slow.)
    """
    san = _general_names(names, None)
    cn = common_name or (names[0] if names else None)
    if cn is None:
        raise PkiError("a self-signed certificate needs a name")
    own_key = key or generate_key(key_type, rsa_bits=rsa_bits)
    subject = _subject(cn)
    cert = _sign(
        subject=subject,
        public_key=own_key.public_key(),
        issuer_name=subject,
        issuer_key=own_key,
        window=_window(now, days, not_before, not_after),
        extensions=_leaf_extensions(own_key.public_key(), san, _eku(eku), False),
    )
    return LeafCert(cert=cert, key=own_key, chain=(cert,), root=cert)


def new_csr(
    *names: str,
    common_name: str | None = None,
    eku: Sequence[str | x509.ObjectIdentifier] = ("serverAuth", "clientAuth"),
    key_type: KeyType = "ecdsa",
    rsa_bits: int = 2048,
    key: IssuerKey | None = None,
) -> tuple[x509.CertificateSigningRequest, IssuerKey]:
    """A CSR and its key, requesting ``names`` as SANs and ``eku`` (both by default, as Pexip's)."""
    san = _general_names(names, None)
    cn = common_name or (names[0] if names else None)
    csr_key = key or generate_key(key_type, rsa_bits=rsa_bits)
    builder = x509.CertificateSigningRequestBuilder().subject_name(_subject(cn))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=cn is None)
    usage = _eku(eku) if eku else None
    if usage is not None:
        builder = builder.add_extension(usage, critical=False)
    return builder.sign(csr_key, _hash_for(csr_key)), csr_key
