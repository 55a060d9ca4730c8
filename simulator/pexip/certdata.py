"""Certificate data for the simulated Management Node: parse, describe, pair, make, export.

Pure functions over PEM text (``cryptography`` plus a tiny DER reader); no state, no HTTP.
The certificate behaviour of the resources (``certificates``) is built on these.

This module deliberately shares NO code with Accord's own certificate inspection
(``accord/pki``): the simulator is a test double for the systems Accord verifies, so a bug in a
shared helper (a wrong pairing check, a wrong hash) would hide in both the verifier and the
thing it verifies. Keep it independent, even where the two look alike (the rule of every
simulator: ``simulator/__init__.py``).

INFERRED formats of the read-only metadata (no source shows real values): ``subject_name`` is
the Common Name, else the Organisation, else ""; ``raw_subject``/``raw_issuer`` are RFC 4514
strings; ``subject_hash``/``issuer_hash`` are OpenSSL's ``X509_NAME_hash`` (as ``openssl x509
-hash`` prints it); ``serial_no`` is the serial in decimal; ``key_id``/``issuer_key_id`` are the
Subject/Authority Key Identifier in lower-case hex, or null when the extension is absent;
``subject_alt_names`` is the SAN values joined by ", "; ``text`` is an OpenSSL-style dump.

Error messages never contain key material or passphrases: they are fixed texts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The guide's own wording (pexip-secure-mode-guide-later.txt, "Troubleshooting").
KEY_MISMATCH = "Certificate and private key do not appear to be part of the same key pair"
# INFERRED wordings below (the guide says what is refused, not how).
CSR_NOT_CERTIFICATE = (
    "This is a certificate signing request (CSR), not a certificate. Upload the certificate "
    "you obtained from the Certificate Authority."
)
NOT_PEM_CERTIFICATE = "Enter a valid PEM-formatted certificate."
KEY_IN_CERTIFICATE = "Paste the private key into the private key field, not here."
NOT_PEM_KEY = "Enter a valid PEM-formatted RSA or ECDSA private key."
UNSUPPORTED_KEY = "Unsupported private key type: Pexip Infinity supports RSA and ECDSA keys."
NEEDS_PASSPHRASE = "The private key is encrypted: enter its passphrase."
WRONG_PASSPHRASE = "The passphrase does not decrypt the private key."
NOT_PARAMETERS = "Enter PEM-formatted DH parameters and/or an EC curve name (EC PARAMETERS)."

MS_TEMPLATE_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")
MS_TEMPLATE_NAME = "WebServer"

_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)\r?\n?-----END \1-----", re.DOTALL | re.ASCII
)
KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
CSR_LABELS = ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
PARAM_LABELS = ("DH PARAMETERS", "EC PARAMETERS")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CertError(ValueError):
    """A refused certificate, key or parameters; ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Block:
    """One PEM block: its label and its whole text (BEGIN to END line, newline-terminated)."""

    label: str
    text: str


def pem_blocks(text: str) -> list[Block]:
    """Every PEM block in ``text`` in order (text between blocks is ignored, as OpenSSL does)."""
    return [Block(m.group(1), m.group(0).strip() + "\n") for m in _PEM.finditer(text)]


# -- a minimal DER reader/writer (enough for names, OIDs and DH/EC parameters) -------------


def _read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, value, next position) of the DER element at ``pos``; ValueError if malformed."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + length], pos + length


def _children(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        tag, value, pos = _read_tlv(data, pos)
        out.append((tag, value))
    return out


def _tlv(tag: int, value: bytes) -> bytes:
    length = len(value)
    if length < 0x80:
        return bytes([tag, length]) + value
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + value


def _oid_text(value: bytes) -> str:
    if not value:
        raise ValueError("empty OID")
    parts, number = [], 0
    for byte in value:
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(number)
            number = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first, *parts[1:]])


# -- names -----------------------------------------------------------------------------------

_CANON_TAGS = {12: "utf-8", 19: "ascii", 20: "latin-1", 22: "ascii", 26: "ascii"}
_CANON_TAGS_WIDE = {30: "utf-16-be", 28: "utf-32-be"}


def _canonical_value(tag: int, value: bytes) -> bytes:
    encoding = _CANON_TAGS.get(tag) or _CANON_TAGS_WIDE.get(tag)
    if encoding is None:
        return _tlv(tag, value)
    text = value.decode(encoding, "replace").encode("utf-8")
    text = re.sub(rb"[ \t\n\v\f\r]+", b" ", text).strip(b" ")
    text = bytes(b + 32 if 65 <= b <= 90 else b for b in text)
    return _tlv(12, text)


def name_hash(name: x509.Name) -> str:
    """OpenSSL's ``X509_NAME_hash`` of ``name`` (what ``openssl x509 -hash`` prints)."""
    canon = b""
    for set_tag, rdn in _children(_read_tlv(name.public_bytes(), 0)[1]):
        entries = []
        for _, ava in _children(rdn):
            (oid_tag, oid), (value_tag, value) = _children(ava)[:2]
            entries.append(_tlv(0x30, _tlv(oid_tag, oid) + _canonical_value(value_tag, value)))
        canon += _tlv(set_tag, b"".join(sorted(entries)))
    digest = hashlib.sha1(canon).digest()
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    """The first value of attribute ``oid`` in ``name``, or ""."""
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def display_name(name: x509.Name) -> str:
    """``subject_name``: the Common Name, else the Organisation, else ""."""
    return attribute(name, NameOID.COMMON_NAME) or attribute(name, NameOID.ORGANIZATION_NAME)


# -- parsing ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def load_certificate(text: str) -> x509.Certificate:
    """One PEM certificate block (cached: the state keeps PEM text and re-reads it often).

    A certificate that cannot be fully described (odd extensions, names or key algorithms
    ``cryptography`` cannot read) is refused here, so nothing later can fail on it.
    """
    try:
        cert = x509.load_pem_x509_certificate(text.encode("ascii"))
        describe(cert)
        san_values(cert)
        to_pem(cert)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeError, IndexError):
        raise CertError(NOT_PEM_CERTIFICATE) from None
    return cert


def to_pem(cert: x509.Certificate) -> str:
    """A certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class Parameters:
    """DH and/or EC parameter blocks (PEM text each, "" if absent)."""

    dh: str = ""
    ec: str = ""

    @property
    def text(self) -> str:
        """The stored form: the blocks concatenated (DH first)."""
        return self.dh + self.ec


def dh_bits(text: str) -> int:
    """The size in bits of the prime of PEM ``DH PARAMETERS``; CertError if malformed."""
    try:
        block = pem_blocks(text)
        if len(block) != 1 or block[0].label != "DH PARAMETERS":
            raise ValueError("not DH parameters")
        body = _pem_body(block[0].text)
        tag, seq, _ = _read_tlv(body, 0)
        items = _children(seq)
        if tag != 0x30 or len(items) < 2 or any(t != 0x02 for t, _ in items):
            raise ValueError("bad DH parameters")
        prime = int.from_bytes(items[0][1], "big")
        generator = int.from_bytes(items[1][1], "big")
        if prime < 2**511 or prime % 2 == 0 or not 1 < generator < prime:
            raise ValueError("bad DH parameters")
        return prime.bit_length()
    except ValueError:
        raise CertError(NOT_PARAMETERS) from None


_CURVES = {
    "1.2.840.10045.3.1.7": "prime256v1",
    "1.3.132.0.34": "secp384r1",
    "1.3.132.0.35": "secp521r1",
}


def ec_curve(text: str) -> str:
    """The curve name of PEM ``EC PARAMETERS`` (named curves only); CertError otherwise."""
    try:
        blocks = pem_blocks(text)
        if len(blocks) != 1 or blocks[0].label != "EC PARAMETERS":
            raise ValueError("not EC parameters")
        tag, value, end = _read_tlv(_pem_body(blocks[0].text), 0)
        curve = _CURVES.get(_oid_text(value)) if tag == 0x06 else None
        if curve is None:
            raise ValueError("unknown curve")
        return curve
    except ValueError:
        raise CertError(NOT_PARAMETERS) from None


def _pem_body(block: str) -> bytes:
    lines = block.strip().splitlines()[1:-1]
    try:
        return base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("bad base64") from None


def parse_parameters(blocks: Sequence[Block]) -> Parameters:
    """At most one DH and one EC parameters block; CertError for anything else."""
    dh = ec_text = ""
    for block in blocks:
        if block.label == "DH PARAMETERS" and not dh:
            dh_bits(block.text)
            dh = block.text
        elif block.label == "EC PARAMETERS" and not ec_text:
            ec_curve(block.text)
            ec_text = block.text
        else:
            raise CertError(NOT_PARAMETERS)
    return Parameters(dh, ec_text)


def parameters_from_text(text: str) -> Parameters:
    """The ``parameters`` field: "" or DH/EC parameter blocks only."""
    blocks = pem_blocks(text)
    if text.strip() and not blocks:
        raise CertError(NOT_PARAMETERS)
    return parse_parameters(blocks)


@dataclass(frozen=True)
class CertificateText:
    """A ``certificate`` field split up: certificates in order, and appended parameters."""

    certificates: tuple[str, ...]
    parameters: Parameters = field(default_factory=Parameters)


def parse_certificate_text(text: str, *, allow_parameters: bool = True) -> CertificateText:
    """Certificates (one or more) and optional appended DH/EC parameters.

    CertError with a fixed message: a CSR, a private key, no certificate, or an unparsable one.
    """
    blocks = pem_blocks(text)
    if any(b.label in CSR_LABELS for b in blocks):
        raise CertError(CSR_NOT_CERTIFICATE)
    if any(b.label in KEY_LABELS for b in blocks):
        raise CertError(KEY_IN_CERTIFICATE)
    certs = [b.text for b in blocks if b.label == "CERTIFICATE"]
    params = [b for b in blocks if b.label in PARAM_LABELS]
    if not certs or len(certs) + len(params) != len(blocks):
        raise CertError(NOT_PEM_CERTIFICATE)
    if params and not allow_parameters:
        raise CertError(NOT_PEM_CERTIFICATE)
    normalised = tuple(to_pem(load_certificate(c)) for c in certs)
    return CertificateText(normalised, parse_parameters(params))


def _encrypted(block: Block) -> bool:
    return block.label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in block.text


class KeyProblem(CertError):
    """A refused key and the field at fault (``private_key`` or ``private_key_passphrase``)."""

    def __init__(self, message: str, field: str = "private_key") -> None:
        super().__init__(message)
        self.field = field


def load_private_key(block: Block, passphrase: str, *, validate: bool = True) -> PrivateKey:
    """Decrypt and load one key block; ``KeyProblem`` says which field is at fault."""
    password = passphrase.encode("utf-8", "surrogatepass") if passphrase else None
    if _encrypted(block) and password is None:
        raise KeyProblem(NEEDS_PASSPHRASE, "private_key_passphrase")
    try:
        key = serialization.load_pem_private_key(
            block.text.encode("ascii"),
            password if _encrypted(block) else None,
            unsafe_skip_rsa_key_validation=not validate,
        )
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        if _encrypted(block):
            raise KeyProblem(WRONG_PASSPHRASE, "private_key_passphrase") from None
        raise KeyProblem(NOT_PEM_KEY) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyProblem(UNSUPPORTED_KEY)
    return key


def parse_private_key(text: str, passphrase: str = "", *, validate: bool = True) -> PrivateKey:
    """Exactly one PEM private key (RSA or ECDSA), decrypted with ``passphrase`` if needed."""
    blocks = pem_blocks(text)
    if len(blocks) != 1 or blocks[0].label not in KEY_LABELS:
        raise KeyProblem(NOT_PEM_KEY)
    return load_private_key(blocks[0], passphrase, validate=validate)


@functools.lru_cache(maxsize=256)
def load_stored_key(text: str) -> PrivateKey:
    """A key as the state stores it (unencrypted PKCS#8 written by us): no slow RSA checks."""
    return parse_private_key(text, validate=False)


def key_pem(key: PrivateKey, passphrase: str = "") -> str:
    """PKCS#8 PEM of ``key``, encrypted with ``passphrase`` if one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8", "surrogatepass"))
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode("ascii")


def spki(key: object) -> bytes:
    """DER SubjectPublicKeyInfo of a public key (for comparing keys)."""
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pairs(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Whether ``key`` is the private half of ``cert``'s public key."""
    try:
        return spki(cert.public_key()) == spki(key.public_key())
    except (ValueError, UnsupportedAlgorithm):
        return False


def same_key(a: x509.Certificate, b: x509.Certificate) -> bool:
    """Whether two certificates carry the same public key."""
    try:
        return spki(a.public_key()) == spki(b.public_key())
    except (ValueError, UnsupportedAlgorithm):
        return False


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` (by name and signature) issued ``cert``."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def self_signed(cert: x509.Certificate) -> bool:
    """A "temporary" certificate in the guide's terms: issued by itself."""
    return issued_by(cert, cert)


def is_ca(cert: x509.Certificate) -> bool:
    """basicConstraints CA:TRUE."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def chain_complete(leaf: x509.Certificate, pool: Sequence[x509.Certificate]) -> bool:
    """Whether issuers from ``pool`` lead from ``leaf`` to a self-signed root."""
    current, seen = leaf, 0
    while seen <= len(pool) + 1:
        if self_signed(current):
            return True
        issuer = next((c for c in pool if issued_by(current, c)), None)
        if issuer is None:
            return False
        current, seen = issuer, seen + 1
    return False


def not_after(cert: x509.Certificate) -> dt.datetime:
    return cert.not_valid_after_utc


# -- metadata ---------------------------------------------------------------------------------


def _fmt_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _ski(cert: x509.Certificate) -> str | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    except (x509.ExtensionNotFound, ValueError):
        return None


def _aki(cert: x509.Certificate) -> str | None:
    try:
        ext = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    return ext.key_identifier.hex() if ext.key_identifier else None


def san_values(cert: x509.Certificate) -> list[str]:
    """The SAN entries as plain strings (DNS names, IP addresses, e-mail, URIs)."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    out: list[str] = []
    for name in names:
        if isinstance(name, x509.DNSName | x509.RFC822Name | x509.UniformResourceIdentifier):
            out.append(name.value)
        elif isinstance(name, x509.IPAddress):
            out.append(str(name.value))
    return out


def key_usages(cert: x509.Certificate) -> dict[str, bool]:
    """``server_auth_usage`` / ``client_auth_usage``: whether the extended key usage lists
    serverAuth / clientAuth (both false without the extension)."""
    try:
        usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    return {
        "server_auth_usage": ExtendedKeyUsageOID.SERVER_AUTH in usages,
        "client_auth_usage": ExtendedKeyUsageOID.CLIENT_AUTH in usages,
    }


def describe(cert: x509.Certificate) -> dict[str, object]:
    """The read-only metadata fields of a certificate object (see the module docstring)."""
    return {
        "start_date": _fmt_time(cert.not_valid_before_utc),
        "end_date": _fmt_time(cert.not_valid_after_utc),
        "subject_name": display_name(cert.subject)[:250],
        "subject_hash": name_hash(cert.subject),
        "raw_subject": cert.subject.rfc4514_string(),
        "issuer_name": display_name(cert.issuer)[:250],
        "issuer_hash": name_hash(cert.issuer),
        "raw_issuer": cert.issuer.rfc4514_string(),
        "serial_no": str(cert.serial_number),
        "key_id": _ski(cert),
        "issuer_key_id": _aki(cert),
        "text": certificate_text(cert),
    }


_SIG_NAMES = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
}


def _openssl_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%b %e %H:%M:%S %Y GMT")


def certificate_text(cert: x509.Certificate) -> str:
    """An OpenSSL-style (``openssl x509 -text``) summary of ``cert`` (not byte-exact)."""
    try:
        key: object = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if isinstance(key, rsa.RSAPublicKey):
        algorithm, size = "rsaEncryption", f"({key.key_size} bit)"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        algorithm, size = "id-ecPublicKey", f"({key.curve.key_size} bit) {key.curve.name}"
    else:
        algorithm, size = "unknown", ""
    sig = _SIG_NAMES.get(cert.signature_algorithm_oid.dotted_string)
    lines = [
        "Certificate:",
        "    Data:",
        f"        Version: {cert.version.value + 1} ({hex(cert.version.value)})",
        f"        Serial Number: {cert.serial_number} ({hex(cert.serial_number)})",
        f"        Signature Algorithm: {sig or cert.signature_algorithm_oid.dotted_string}",
        f"        Issuer: {cert.issuer.rfc4514_string()}",
        "        Validity",
        f"            Not Before: {_openssl_time(cert.not_valid_before_utc)}",
        f"            Not After : {_openssl_time(cert.not_valid_after_utc)}",
        f"        Subject: {cert.subject.rfc4514_string()}",
        "        Subject Public Key Info:",
        f"            Public Key Algorithm: {algorithm}",
        f"                Public-Key: {size}".rstrip(),
    ]
    try:
        extensions = list(cert.extensions)
    except ValueError:
        extensions = []
    if extensions:
        lines.append("        X509v3 extensions:")
        for ext in extensions:
            critical = " critical" if ext.critical else ""
            name = getattr(ext.oid, "_name", "") or ext.oid.dotted_string
            lines.append(f"            {name}:{critical}")
            lines.append(f"                {_extension_value(ext.value)}")
    return "\n".join(lines) + "\n"


def _extension_value(value: x509.ExtensionType) -> str:
    if isinstance(value, x509.SubjectAlternativeName):
        return ", ".join(san_text(n) for n in value)
    if isinstance(value, x509.BasicConstraints):
        path = "" if value.path_length is None else f", pathlen:{value.path_length}"
        return f"CA:{'TRUE' if value.ca else 'FALSE'}{path}"
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(getattr(u, "_name", u.dotted_string) for u in value)
    if isinstance(value, x509.SubjectKeyIdentifier):
        return value.digest.hex(":").upper()
    if isinstance(value, x509.AuthorityKeyIdentifier) and value.key_identifier:
        return value.key_identifier.hex(":").upper()
    return type(value).__name__


def san_text(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP Address:{name.value}"
    return f"{type(name).__name__}:{getattr(name, 'value', '')}"


# -- making -----------------------------------------------------------------------------------


def general_name(text: str) -> x509.GeneralName:
    """An IP address SAN if ``text`` is one, else a DNS name."""
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        return x509.DNSName(text)


def self_signed_certificate(
    key: PrivateKey, common_name: str, not_before: dt.datetime, days: int
) -> x509.Certificate:
    """A self-signed ("temporary") server certificate for ``common_name``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([general_name(common_name)]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def ms_template_extension(name: str = MS_TEMPLATE_NAME) -> x509.UnrecognizedExtension:
    """Microsoft's certificate template name extension (a BMPString), as AD CS expects."""
    return x509.UnrecognizedExtension(MS_TEMPLATE_OID, _tlv(0x1E, name.encode("utf-16-be")))


def build_csr(
    key: PrivateKey,
    subject: x509.Name,
    alt_names: Sequence[str],
    *,
    ad_compatible: bool,
    server_auth: bool = True,
    client_auth: bool = True,
) -> str:
    """A PEM CSR: SANs (no extension when there are none), the serverAuth and/or clientAuth
    EKU (no extension with neither), and the MS template if asked."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if alt_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([general_name(n) for n in alt_names]), critical=False
        )
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server_auth else []
    usages += [ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else []
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if ad_compatible:
        builder = builder.add_extension(ms_template_extension(), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def new_key(kind: str) -> PrivateKey:
    """A fresh key for ``private_key_type`` RSA2048, RSA4096 or ECDSAP256 (or RSA1024: only
    the fault ``csr03_default_rsa1024`` asks for that)."""
    if kind == "ECDSAP256":
        return ec.generate_private_key(ec.SECP256R1())
    bits = {"RSA4096": 4096, "RSA1024": 1024}.get(kind, 2048)
    return rsa.generate_private_key(65537, bits)


def pkcs12_bytes(
    name: str,
    key: PrivateKey | None,
    certs: Sequence[x509.Certificate],
    passphrase: str,
) -> bytes:
    """A PKCS#12 (PFX) file: the key with its certificate and chain, or certificates only."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8", "surrogatepass"))
        if passphrase
        else serialization.NoEncryption()
    )
    if key is not None:
        return pkcs12.serialize_key_and_certificates(
            name.encode("utf-8"), key, certs[0], list(certs[1:]) or None, encryption
        )
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"), None, None, list(certs), encryption
    )
