"""Reading a certificate the way the Pexip TLS guide describes it.

:func:`status` gives exactly the guide's status values ("Good", "Temporary", "Weak signature",
"Empty subject", "<n> days left", "Expired"); :func:`chain_complete` checks a chain of trust
against a trust list (the "incomplete chain of trust" alarm); the rest answer the questions the
hardening requirements ask: hostname match, wildcard, EKU, key pairing, signature hash.

All time arguments are timezone-aware datetimes and default to the current UTC time.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.asn1 import decode_der
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import NameOID

from accord.pki.ca import EKU_OIDS, UPN_OID
from accord.pki.errors import PkiError

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "STATUS_PRECEDENCE",
    "WEAK_HASHES",
    "build_chain",
    "chain_complete",
    "common_name",
    "days_left",
    "eku_names",
    "find_key_pair",
    "fingerprint_sha256",
    "has_eku",
    "is_ca",
    "is_expired",
    "is_self_signed",
    "is_weak_signature",
    "is_wildcard",
    "key_matches",
    "matches_hostname",
    "public_key_info",
    "role",
    "san_names",
    "signature_hash_name",
    "signed_by",
    "sort_chain",
    "status",
    "statuses",
    "upn_names",
]

#: "<n> days left" is shown when a certificate expires within this many days (inclusive).
EXPIRY_WARNING_DAYS = 60
#: Signature hashes the guide calls "Weak signature" ("SHA-1 or another old signature").
WEAK_HASHES = frozenset({"md2", "md4", "md5", "sha1"})
#: Which status wins when several apply: the guide lists its values from best to worst, and the
#: worst one that applies is shown. "<n> days left" stands for every countdown value.
STATUS_PRECEDENCE = (
    "Expired",
    "<n> days left",
    "Empty subject",
    "Weak signature",
    "Temporary",
    "Good",
)

# Signature algorithms cryptography may not map to a hash object (MD2, MD4, old SHA-1 OIDs).
_LEGACY_SIGNATURE_HASHES = {
    "1.2.840.113549.1.1.2": "md2",
    "1.2.840.113549.1.1.3": "md4",
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.5": "sha1",
    "1.3.14.3.2.29": "sha1",
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10040.4.3": "sha1",
}
_EKU_NAMES = {oid: name for name, oid in EKU_OIDS.items()}


def _now(now: dt.datetime | None) -> dt.datetime:
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise PkiError("times must be timezone-aware (e.g. datetime.UTC)")
    return moment


Signed = x509.Certificate | x509.CertificateSigningRequest


def _extension(cert: Signed, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


# --- signatures -------------------------------------------------------------------------------


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s public key verifies ``cert``'s signature (names are not compared).

    Unlike cryptography's ``verify_directly_issued_by`` this also verifies SHA-1 signatures, which
    the guide's "Weak signature" certificates have.
    """
    key = issuer.public_key()
    try:
        digest = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and digest is not None:
            pad = cert.signature_algorithm_parameters
            if not isinstance(pad, padding.PSS | padding.PKCS1v15):
                pad = padding.PKCS1v15()
            key.verify(cert.signature, cert.tbs_certificate_bytes, pad, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and digest is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(digest))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer and the certificate's own key verifies its signature."""
    return cert.subject == cert.issuer and signed_by(cert, cert)


def signature_hash_name(cert: x509.Certificate) -> str | None:
    """The signature's hash, lower case as cryptography names it (``"sha256"``, ``"sha1"``,
    ``"md5"``); ``None`` for signatures without a separate hash (Ed25519) or unknown ones."""
    legacy = _LEGACY_SIGNATURE_HASHES.get(cert.signature_algorithm_oid.dotted_string)
    if legacy:
        return legacy
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return digest.name if digest is not None else None


def is_weak_signature(cert: x509.Certificate) -> bool:
    """Signed with SHA-1, MD5 or an older hash (the guide's "Weak signature")."""
    return signature_hash_name(cert) in WEAK_HASHES


# --- names ------------------------------------------------------------------------------------


def common_name(cert: x509.Certificate) -> str | None:
    """The subject's first Common Name, or ``None``."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode()


def san_names(cert: Signed) -> list[str]:
    """The subjectAltName DNS names and IP addresses (as text), in the certificate's (or the
    CSR's) order."""
    san = _extension(cert, x509.SubjectAlternativeName)
    if not isinstance(san, x509.SubjectAlternativeName):
        return []
    out = []
    for name in san:
        if isinstance(name, x509.DNSName):
            out.append(name.value)
        elif isinstance(name, x509.IPAddress):
            out.append(str(name.value))
    return out


def upn_names(cert: x509.Certificate) -> list[str]:
    """The subjectAltName userPrincipalName (Microsoft otherName) values."""
    san = _extension(cert, x509.SubjectAlternativeName)
    if not isinstance(san, x509.SubjectAlternativeName):
        return []
    return [
        decode_der(str, other.value)
        for other in san.get_values_for_type(x509.OtherName)
        if other.type_id == UPN_OID
    ]


def _dns_identifiers(cert: x509.Certificate) -> list[str]:
    cn = common_name(cert)
    san = [n for n in san_names(cert) if not _is_ip(n)]
    return san + ([cn] if cn else [])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_wildcard(cert: x509.Certificate) -> bool:
    """Any DNS SAN entry or the Common Name has a ``*`` in its left-most label (RFC 5922 forbids
    these for SIP; partial wildcards such as ``f*.example.com`` count too)."""
    return any("*" in name.split(".", 1)[0] for name in _dns_identifiers(cert))


def _dns_match(pattern: str, host: str) -> bool:
    pattern = pattern.rstrip(".").lower()
    if pattern == host:
        return True
    label, _, rest = pattern.partition(".")
    if label != "*" or "*" in rest or rest.count(".") < 1:
        return False
    host_label, _, host_rest = host.partition(".")
    return bool(host_label) and host_rest == rest


def matches_hostname(cert: x509.Certificate, hostname: str, *, cn_fallback: bool = True) -> bool:
    """Whether the certificate is valid for ``hostname`` (RFC 6125 style).

    Case-insensitive; a trailing dot is ignored. A wildcard ``*.example.com`` matches exactly one
    whole left-most label (``a.example.com``, not ``example.com`` nor ``a.b.example.com``); partial
    wildcards and wildcards over a single label (``*.com``) never match. An IP address matches only
    iPAddress SAN entries. The Common Name is used only when the certificate has no DNS or IP SAN
    entries at all (and ``cn_fallback`` is true).
    """
    host = hostname.rstrip(".").lower()
    sans = san_names(cert)
    if _is_ip(host):
        wanted = ipaddress.ip_address(host)
        candidates = [n for n in sans if _is_ip(n)]
        if not sans and cn_fallback and (cn := common_name(cert)) and _is_ip(cn):
            candidates = [cn]
        return any(ipaddress.ip_address(n) == wanted for n in candidates)
    patterns = [n for n in sans if not _is_ip(n)]
    if not sans and cn_fallback and (cn := common_name(cert)):
        patterns = [cn]
    return any(_dns_match(p, host) for p in patterns)


# --- usage and keys ---------------------------------------------------------------------------


def eku_names(cert: x509.Certificate) -> list[str]:
    """Extended key usages by OpenSSL name (``serverAuth``, ``clientAuth``, ...), unknown ones as
    dotted OIDs; empty when the certificate has no EKU extension."""
    eku = _extension(cert, x509.ExtendedKeyUsage)
    if not isinstance(eku, x509.ExtendedKeyUsage):
        return []
    return [_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku]


def has_eku(cert: x509.Certificate, usage: str) -> bool:
    """Whether the EKU extension lists ``usage`` (a name such as ``"serverAuth"`` or a dotted OID).

    A certificate without an EKU extension gives ``False``: the requirements ask for the usage to
    be stated, even though RFC 5280 lets an absent EKU mean "any".
    """
    wanted = EKU_OIDS[usage].dotted_string if usage in EKU_OIDS else usage
    eku = _extension(cert, x509.ExtendedKeyUsage)
    return isinstance(eku, x509.ExtendedKeyUsage) and any(
        oid.dotted_string == wanted for oid in eku
    )


def is_ca(cert: x509.Certificate) -> bool:
    """basicConstraints says CA:TRUE."""
    bc = _extension(cert, x509.BasicConstraints)
    return isinstance(bc, x509.BasicConstraints) and bc.ca


def role(cert: x509.Certificate) -> Literal["root", "intermediate", "leaf"]:
    """Root (a CA whose Issued To equals Issued By), intermediate (any other CA) or leaf."""
    if is_ca(cert):
        return "root" if cert.subject == cert.issuer else "intermediate"
    return "leaf"


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches(cert: x509.Certificate, key: PrivateKeyTypes) -> bool:
    """Whether ``key`` is the private half of the certificate's public key (RSA, ECDSA, EdDSA)."""
    try:
        return _spki(cert.public_key()) == _spki(key.public_key())  # type: ignore[arg-type]
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return False


def find_key_pair(
    certs: Iterable[x509.Certificate], key: PrivateKeyTypes
) -> x509.Certificate | None:
    """The first certificate that pairs with ``key`` ("one of those certificates must pair with the
    associated private key"), or ``None``."""
    return next((c for c in certs if key_matches(c, key)), None)


def public_key_info(cert: Signed) -> tuple[str, int]:
    """``("RSA", 4096)``, ``("ECDSA", 256)``, ``("Ed25519", 256)``...: algorithm and key size of
    a certificate's (or a CSR's) public key."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, getattr(key, "key_size", 0)


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as OpenSSL prints it: upper-case hex pairs joined by colons."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


# --- time and status --------------------------------------------------------------------------


def days_left(cert: x509.Certificate, now: dt.datetime | None = None) -> int:
    """Whole days until notAfter (rounded down); negative once expired."""
    return (cert.not_valid_after_utc - _now(now)) // dt.timedelta(days=1)


def is_expired(cert: x509.Certificate, now: dt.datetime | None = None) -> bool:
    """``now`` is past notAfter (a certificate is still valid at the notAfter second itself)."""
    return _now(now) > cert.not_valid_after_utc


def statuses(cert: x509.Certificate, now: dt.datetime | None = None) -> list[str]:
    """Every guide status value that applies, highest precedence first (see
    :data:`STATUS_PRECEDENCE`); ``["Good"]`` when none does.

    - "Expired": ``now`` is past notAfter.
    - "<n> days left": expires within 60 days, ``n`` whole days (rounded down, so "0 days left" on
      the last day).
    - "Empty subject": the subject has no attributes (the certificate has SANs only).
    - "Weak signature": signed with SHA-1, MD5 or older.
    - "Temporary": self-signed.

    notBefore is not looked at: the guide has no status for a not-yet-valid certificate.
    """
    found = []
    if is_expired(cert, now):
        found.append("Expired")
    elif (left := days_left(cert, now)) <= EXPIRY_WARNING_DAYS:
        found.append(f"{left} days left")
    if len(cert.subject) == 0:
        found.append("Empty subject")
    if is_weak_signature(cert):
        found.append("Weak signature")
    if is_self_signed(cert):
        found.append("Temporary")
    return found or ["Good"]


def status(cert: x509.Certificate, now: dt.datetime | None = None) -> str:
    """The one status value the guide's certificate list shows (the first of :func:`statuses`)."""
    return statuses(cert, now)[0]


# --- chain of trust ---------------------------------------------------------------------------


def _describe(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _key_ids_agree(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    aki = _extension(cert, x509.AuthorityKeyIdentifier)
    ski = _extension(issuer, x509.SubjectKeyIdentifier)
    if not isinstance(aki, x509.AuthorityKeyIdentifier) or aki.key_identifier is None:
        return True
    if not isinstance(ski, x509.SubjectKeyIdentifier):
        return True
    return aki.key_identifier == ski.digest


def build_chain(
    cert: x509.Certificate, trusted: Iterable[x509.Certificate]
) -> list[x509.Certificate]:
    """The path from ``cert`` up to a self-signed root, using only certificates in ``trusted``.

    Each step takes a certificate whose subject is the current issuer, whose subject key
    identifier equals the current authority key identifier (when both are present), and whose
    key verifies the current signature; the path ends at a self-signed certificate that is in
    ``trusted`` (a self-signed ``cert`` must itself be in ``trusted``). Validity dates are not
    checked. Raises :class:`PkiError` naming the first missing issuer.
    """
    pool = list(trusted)
    pool_prints = {c.fingerprint(hashes.SHA256()) for c in pool}

    def walk(current: x509.Certificate, seen: frozenset[bytes]) -> list[x509.Certificate]:
        if is_self_signed(current):
            if current.fingerprint(hashes.SHA256()) in pool_prints:
                return [current]
            raise PkiError(f"the self-signed {_describe(current)} is not in the trust list")
        issuers = [
            c
            for c in pool
            if c.subject == current.issuer
            and c.fingerprint(hashes.SHA256()) not in seen
            and _key_ids_agree(current, c)
            and signed_by(current, c)
        ]
        if not issuers:
            raise PkiError(
                f"missing issuer {current.issuer.rfc4514_string()} of {_describe(current)}: "
                "not in the trust list"
            )
        problem = PkiError("no path to a trusted root")
        for issuer in issuers:
            try:
                return [current, *walk(issuer, seen | {issuer.fingerprint(hashes.SHA256())})]
            except PkiError as exc:
                problem = exc
        raise problem

    return walk(cert, frozenset({cert.fingerprint(hashes.SHA256())}))


def chain_complete(cert: x509.Certificate, trusted: Iterable[x509.Certificate]) -> tuple[bool, str]:
    """``(True, "")`` when :func:`build_chain` finds a path to a trusted root, else ``(False,
    what is missing)`` — the guide's "incomplete chain of trust" alarm condition."""
    try:
        build_chain(cert, trusted)
    except PkiError as exc:
        return False, str(exc)
    return True, ""


def sort_chain(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """Certificates in chain order, for bundles whose order is lost (PKCS#7 sorts its SET OF).

    The leaf (one that issued none of the others, preferably not self-signed) comes first, then
    its issuer, and so on up to a self-signed root; certificates off that path follow in their
    given order; duplicates are dropped.
    """
    pool: list[x509.Certificate] = []
    for cert in certs:
        if cert not in pool:
            pool.append(cert)
    if not pool:
        return []

    def issuer_of(
        cert: x509.Certificate, candidates: list[x509.Certificate]
    ) -> x509.Certificate | None:
        return next(
            (
                c
                for c in candidates
                if c.subject == cert.issuer and c is not cert and signed_by(cert, c)
            ),
            None,
        )

    issuers = {id(i) for c in pool if not is_self_signed(c) and (i := issuer_of(c, pool))}
    ends = [c for c in pool if id(c) not in issuers]
    path = [next((c for c in ends if not is_self_signed(c)), ends[0] if ends else pool[0])]
    while not is_self_signed(path[-1]):
        nxt = issuer_of(path[-1], [c for c in pool if c not in path])
        if nxt is None:
            break
        path.append(nxt)
    return path + [c for c in pool if c not in path]
