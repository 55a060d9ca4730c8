"""Certificate behaviour: TLS and CA certificate uploads, CSRs, import, download, alarms.

The model calls these after a request's fields have validated on their own (types, lengths,
choices, relations); they check the certificate data, change the state only when everything
is acceptable, and raise ``ValidationError``/``BadRequest`` otherwise. Sources: the TLS guide
(``guides/pexip-tls-and-trusted-ca-certificates.md``, THE behaviour source) and the CSR sections
of ``guides/pexip-secure-mode-guide-later.txt``; crypto helpers in ``certdata`` (which shares no
code with Accord's verifier, on purpose).

Behaviour (guide wording where it has one):
- Upload (``tls_certificate`` POST): the certificate must pair with the private key, else
  "Certificate and private key do not appear to be part of the same key pair" (on
  ``private_key``); a CSR is refused (on ``certificate``); RSA and ECDSA keys; an encrypted key
  needs ``private_key_passphrase``; several certificates may be pasted: the one pairing with the
  key is the certificate, the others (in the given order) its chain; DH/EC parameters may be in
  ``parameters`` or appended to the certificate text (not both: INFERRED). The stored
  ``certificate`` is the leaf followed by its chain (parameters moved to ``parameters``); the
  key is stored decrypted (PKCS#8) and never returned.
- Same subject (TLS-11, CA-02): a certificate whose subject exists already is added alongside,
  unless issuer AND serial are identical too: then the existing object is updated in place (the
  POST answers 201 with the existing object's Location; INFERRED) and keeps its node
  assignments; an exact duplicate changes nothing.
- ``tls_certificate`` PATCH may change ``certificate``/``parameters`` (the new certificate must
  pair with the stored key); the private key cannot be modified (guide: "You cannot modify the
  private key"; 400 on ``private_key``).
- Deleting a certificate assigned to a node is refused with a 400 naming the nodes (INFERRED:
  the guide does not say; a node never silently loses its certificate).
- CSR POST generates the key (RSA2048 default, RSA4096, ECDSAP256) or takes an uploaded one
  (UPLOAD + ``private_key``); the CSR requests serverAuth AND clientAuth ("CSRs generated via
  Pexip Infinity always request client certificate and server certificate capabilities"; the
  newer API's ``eku_server_auth`` / ``eku_client_auth``, default true, can leave one out), has
  the Common Name first in its SANs (the UI's "Include Common Name in SAN" has no API field:
  always on, INFERRED) then the additional names, and the Microsoft template extension
  ("WebServer") only with ``ad_compatible``. ``dn`` (INFERRED format): comma-separated
  ``KEY=value`` with keys O, OU, L, ST, C (C two letters), values without commas, at most 64
  characters each.
- Renewal CSR (``tls_certificate`` set): same key and subject as that certificate, its SANs
  kept and ``additional_subject_alt_names`` added, ``dn`` (if given) replacing the other subject
  fields; refused for a temporary (self-signed) certificate or unusable subject data with the
  guide's "It was not possible to automatically create a certificate signing request from this
  certificate" (on ``tls_certificate``). ``subject_name`` may be omitted (and must otherwise be
  the certificate's); a key may not be uploaded for it (INFERRED).
- CSRs cannot be modified (400 for any field but ``certificate``). PATCH with ``certificate``
  completes: the key must match (guide text, on ``certificate``); the certificate is linked with
  the CSR's key; an existing certificate with the same subject name (``subject_name``, the
  Common Name: the guide's "same subject name and private key") and key is REPLACED in place
  (keeping its node assignments, CSR-09), else the same-subject rule applies; the CSR is
  deleted. The PATCH answers 202 with a ``Location`` of the TLS certificate (INFERRED).
- Import (``command/v1/platform/certificates_import/``): CA certificates (basicConstraints CA)
  go to ``ca_certificate``; other certificates need their private key in the bundle (anywhere)
  and go to ``tls_certificate``; DH/EC parameters attach to the closest server certificate
  before them; exact duplicates are ignored. All or nothing; errors name ``bundle`` (or
  ``private_key_passphrase``).
- Download and export (``download``, ``export_ca``, ``csr_download``): the real API has none
  (the UI has); see ``control`` for the simulator-only routes. Not for temporary certificates; a
  private key only with a passphrase (it then encrypts the key / the PKCS#12 file); a CSR
  downloads as ``<subject_name>.csr`` without its key.
- Alarms: derived from the state at every read (``certificate_alarms``); see ALARM_* below.

Faults (``faults``, ``/_sim/faults``): every entry point takes the active fault names; each
fault is checked (``if f.NAME in faults``) at the one place where the behaviour it breaks lives.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simulator.pexip import certdata, keycache
from simulator.pexip import faults as f
from simulator.pexip.certdata import CertError, KeyProblem
from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
    CERTIFICATE_SIGNING_REQUEST,
    TLS_CERTIFICATE,
)
from simulator.pexip.errors import BadRequest, ValidationError
from simulator.pexip.fields import BLANK, NOT_STRING, REQUIRED, UNKNOWN, Key, format_time
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import MANAGEMENT_VM, WORKER_VM
from simulator.pexip.state import State

HANDLED = {r.name for r in (TLS_CERTIFICATE, CERTIFICATE_SIGNING_REQUEST, CA_CERTIFICATE)}
Errors = dict[str, list[str]]
Faults = frozenset[str]
NO_FAULTS: Faults = frozenset()

NO_AUTO_CSR = (
    "It was not possible to automatically create a certificate signing request from this "
    "certificate"
)
# INFERRED wordings.
KEY_IMMUTABLE = "You cannot modify the private key."
CSR_IMMUTABLE = "A certificate signing request cannot be modified: delete it and create a new one."
CSR_NO_CERTIFICATE_ON_CREATE = (
    "A certificate can only be uploaded to complete an existing certificate signing request."
)
PARAMETERS_TWICE = (
    "DH/EC parameters were given both here and appended to the certificate: give them once."
)
ONE_CERTIFICATE = (
    "Enter exactly one PEM certificate (import a bundle with the certificates_import command)."
)
UPLOAD_NEEDS_KEY = "This field is required when private_key_type is UPLOAD."
RENEWAL_KEEPS_KEY = "A renewal request uses the private key of its certificate."
RENEWAL_KEEPS_SUBJECT = "A renewal request keeps the subject name of its certificate."
CN_TOO_LONG = "Ensure the Common Name has at most 64 characters."
CN_NOT_A_NAME = "The Common Name must be a DNS name or an IP address (it is included in the SANs)."
TEMPORARY_DOWNLOAD = "You cannot download a temporary / self-signed certificate."
KEY_NEEDS_PASSPHRASE = "A passphrase is required to include the private key."
# Wordings of the faults' refusals (``faults``; never seen without one).
CN_NOT_DNS = "The Common Name must be a DNS name."
RSA_KEYS_ONLY = "Unsupported private key type: upload an RSA private key."

# Alarms (names and levels INFERRED; ``details`` use the guide's wording).
ALARM_NO_CERTIFICATE = "tls_certificate_missing"
ALARM_INCOMPLETE_CHAIN = "tls_certificate_chain_incomplete"
ALARM_TLS_EXPIRING = "tls_certificate_expiring"
ALARM_TLS_EXPIRED = "tls_certificate_expired"
ALARM_CA_EXPIRING = "ca_certificate_expiring"
ALARM_CA_EXPIRED = "ca_certificate_expired"
ALARM_NAMES = (
    ALARM_NO_CERTIFICATE,
    ALARM_INCOMPLETE_CHAIN,
    ALARM_TLS_EXPIRING,
    ALARM_TLS_EXPIRED,
    ALARM_CA_EXPIRING,
    ALARM_CA_EXPIRED,
)
EXPIRY_WARNING = dt.timedelta(days=30)

TEMPORARY_DAYS = 3650  # INFERRED validity of the shipped self-signed certificates


def _fail(resource: ResourceDef, errors: Mapping[str, list[str]]) -> None:
    if errors:
        raise ValidationError(resource.name, errors)


def node_fqdn(row: Mapping[str, Any]) -> str:
    """hostname.domain (just the hostname when there is no domain)."""
    return f"{row['hostname']}.{row['domain']}" if row["domain"] else row["hostname"]


def _nodes(state: State) -> list[tuple[str, Key, dict[str, Any]]]:
    out: list[tuple[str, Key, dict[str, Any]]] = []
    for rdef, kind in ((MANAGEMENT_VM, "Management Node"), (WORKER_VM, "Conferencing Node")):
        out += [(kind, k, r) for k, r in sorted(state.table(rdef).rows.items())]
    return out


def _leaf(row: Mapping[str, Any]) -> x509.Certificate:
    return certdata.load_certificate(certdata.pem_blocks(row["certificate"])[0].text)


def _chain(row: Mapping[str, Any]) -> list[x509.Certificate]:
    return [certdata.load_certificate(b.text) for b in certdata.pem_blocks(row["certificate"])[1:]]


def _metadata(leaf: x509.Certificate, with_sans: bool) -> dict[str, Any]:
    out = certdata.describe(leaf)
    if with_sans:
        out["subject_alt_names"] = ", ".join(certdata.san_values(leaf))
        out |= certdata.key_usages(leaf)
    return out


def _identity(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return row["raw_subject"], row["raw_issuer"], row["serial_no"]


def _store(
    table_rows: dict[Key, dict[str, Any]],
    state_table: Any,
    row: dict[str, Any],
    *,
    by_subject: bool = False,
) -> Key:
    """Add ``row`` unless an object with the same subject, issuer and serial exists: then
    update that one in place (TLS-11 / CA-02) and return its key. ``by_subject`` (the fault
    ``tls11_same_subject_replaces``) matches on the subject alone."""
    for key, existing in table_rows.items():
        if by_subject:
            same = existing["raw_subject"] == row["raw_subject"]
        else:
            same = _identity(existing) == _identity(row)
        if same:
            existing.update({k: v for k, v in row.items() if k != "trusted_intermediate"})
            return key
    return state_table.add(row)


# -- tls_certificate ---------------------------------------------------------------------


def tls_contents(
    certificate: str,
    key: certdata.PrivateKey | None,
    key_errors: Errors,
    parameters_text: str,
    *,
    key_field: str = "private_key",
    check_pairing: bool = True,
) -> dict[str, Any]:
    """Validated stored fields of a TLS certificate; raises ``ValidationError``.

    Without ``check_pairing`` (a fault) a key that pairs with no certificate is accepted and
    the first certificate is the leaf."""
    errors: Errors = dict(key_errors)
    parsed: certdata.CertificateText | None = None
    params = certdata.Parameters()
    try:
        parsed = certdata.parse_certificate_text(certificate)
    except CertError as error:
        errors["certificate"] = [error.message]
    try:
        params = certdata.parameters_from_text(parameters_text)
    except CertError as error:
        errors["parameters"] = [error.message]
    _fail(TLS_CERTIFICATE, errors)
    assert parsed is not None and key is not None
    if parsed.parameters.text and params.text:
        _fail(TLS_CERTIFICATE, {"parameters": [PARAMETERS_TWICE]})
    certs = [certdata.load_certificate(c) for c in parsed.certificates]
    paired = [i for i, c in enumerate(certs) if certdata.pairs(c, key)]
    if not paired and not check_pairing:
        paired = [0]
    if not paired:
        _fail(TLS_CERTIFICATE, {key_field: [certdata.KEY_MISMATCH]})
    leaf = parsed.certificates[paired[0]]
    chain = [c for i, c in enumerate(parsed.certificates) if i != paired[0]]
    return {
        "certificate": "".join([leaf, *chain]),
        "private_key": certdata.key_pem(key),
        "parameters": (parsed.parameters.text or params.text),
        **_metadata(certs[paired[0]], with_sans=True),
    }


def _uploaded_key(text: str, passphrase: str) -> tuple[certdata.PrivateKey | None, Errors]:
    if text == "":
        return None, {"private_key": [BLANK]}
    try:
        return certdata.parse_private_key(text, passphrase), {}
    except KeyProblem as error:
        return None, {error.field: [error.message]}


def _create_tls(
    state: State, row: dict[str, Any], extras: Mapping[str, Any], faults: Faults
) -> Key:
    key, errors = _uploaded_key(row["private_key"], extras.get("private_key_passphrase", ""))
    pairing = f.TLS10_ACCEPT_MISMATCHED_KEY not in faults
    row.update(
        tls_contents(row["certificate"], key, errors, row["parameters"], check_pairing=pairing)
    )
    table = state.table(TLS_CERTIFICATE)
    by_subject = f.TLS11_SAME_SUBJECT_REPLACES in faults
    return _store(table.rows, table, row, by_subject=by_subject)


def _update_tls(state: State, key: Key, row: dict[str, Any], body: Mapping[str, Any]) -> None:
    if body.get("private_key"):
        _fail(TLS_CERTIFICATE, {"private_key": [KEY_IMMUTABLE]})
    if "certificate" in body or "parameters" in body:
        stored_key = certdata.load_stored_key(row["private_key"])
        parameters = row["parameters"]
        if "parameters" not in body and _appended_parameters(row["certificate"]):
            parameters = ""  # parameters appended to a new certificate replace the stored ones
        row.update(
            tls_contents(row["certificate"], stored_key, {}, parameters, key_field="certificate")
        )
    state.table(TLS_CERTIFICATE).rows[key] = row


def _appended_parameters(text: str) -> bool:
    try:
        return bool(certdata.parse_certificate_text(text).parameters.text)
    except CertError:
        return False


def render_nodes(state: State, key: Key) -> list[str]:
    """FQDNs of the nodes using TLS certificate ``key`` (Management Nodes first)."""
    return users_by_certificate(state).get(key, [])


def users_by_certificate(state: State) -> dict[Key, list[str]]:
    """Each TLS certificate's nodes' FQDNs (Management Nodes first), in one pass over the
    nodes: rendering a list of certificates asks it once, not once per certificate."""
    users: dict[Key, list[str]] = {}
    for _, _, row in _nodes(state):
        users.setdefault(row["tls_certificate"], []).append(node_fqdn(row))
    return users


def check_delete(rdef: ResourceDef, state: State, key: Key) -> None:
    """Refuse to delete a TLS certificate still assigned to a node (INFERRED)."""
    if rdef is TLS_CERTIFICATE:
        users = render_nodes(state, key)
        if users:
            raise BadRequest(
                f"Cannot delete tls_certificate {key}: it is assigned to {', '.join(users)}. "
                "Assign another certificate to those nodes first."
            )


# -- ca_certificate ----------------------------------------------------------------------


def ca_contents(certificate: str) -> dict[str, Any]:
    """Validated stored fields of a CA certificate (exactly one certificate)."""
    try:
        parsed = certdata.parse_certificate_text(certificate, allow_parameters=False)
    except CertError as error:
        raise ValidationError(CA_CERTIFICATE.name, {"certificate": [error.message]}) from None
    if len(parsed.certificates) != 1:
        raise ValidationError(CA_CERTIFICATE.name, {"certificate": [ONE_CERTIFICATE]})
    cert = certdata.load_certificate(parsed.certificates[0])
    return {"certificate": parsed.certificates[0], **_metadata(cert, with_sans=False)}


def _create_ca(state: State, row: dict[str, Any]) -> Key:
    row.update(ca_contents(row["certificate"]))
    table = state.table(CA_CERTIFICATE)
    return _store(table.rows, table, row)


# -- certificate_signing_request ---------------------------------------------------------

_DN_KEYS = {
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
}
_DNS_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DNS_NAME = re.compile(rf"(\*\.)?{_DNS_LABEL}(\.{_DNS_LABEL})*\.?", re.ASCII)


def parse_dn(text: str) -> list[x509.NameAttribute]:
    """``O=...,OU=...,L=...,ST=...,C=..`` (any order, each at most once) → attributes in
    the order C, ST, L, O, OU; ValueError with a message naming the problem."""
    found: dict[str, str] = {}
    for part in [p.strip() for p in text.split(",")] if text.strip() else []:
        name, sep, value = part.partition("=")
        name, value = name.strip().upper(), value.strip()
        if not sep or name not in _DN_KEYS:
            raise ValueError(
                f"Enter subject fields as KEY=value separated by commas, KEY one of "
                f"{', '.join(_DN_KEYS)}: {part!r} is not one."
            )
        if name in found:
            raise ValueError(f"The subject field {name} is given twice.")
        if not value or len(value) > 64:
            raise ValueError(f"The subject field {name} must have 1 to 64 characters.")
        if name == "C":
            if not re.fullmatch(r"[A-Za-z]{2}", value):
                raise ValueError("The country (C) must be a 2 letter code.")
            value = value.upper()
        found[name] = value
    return [x509.NameAttribute(_DN_KEYS[k], found[k]) for k in _DN_KEYS if k in found]


def valid_name(text: str) -> bool:
    """A DNS name (wildcard allowed leftmost) or an IP address, as a SAN may hold."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return len(text) <= 253 and _DNS_NAME.fullmatch(text) is not None


def parse_alt_names(text: str) -> list[str]:
    """The comma-separated additional SANs; ValueError naming the first bad one."""
    names = [n.strip() for n in text.split(",")] if text.strip() else []
    for name in names:
        if not valid_name(name):
            raise ValueError(f"{name!r} is not a DNS name or an IP address.")
    return names


def _renewal_source(
    state: State, tls_key: Key, errors: Errors, *, allow_temporary: bool = False
) -> tuple[x509.Certificate, certdata.PrivateKey] | None:
    row = state.table(TLS_CERTIFICATE).rows[tls_key]
    cert = _leaf(row)
    cn = certdata.attribute(cert.subject, NameOID.COMMON_NAME)
    country = certdata.attribute(cert.subject, NameOID.COUNTRY_NAME)
    usable = (
        (allow_temporary or not certdata.self_signed(cert))
        and 0 < len(cn) <= 64
        and valid_name(cn)
        and (country == "" or re.fullmatch(r"[A-Za-z]{2}", country) is not None)
    )
    if not usable:
        errors["tls_certificate"] = [NO_AUTO_CSR]
        return None
    return cert, certdata.load_stored_key(row["private_key"])


def _create_csr(
    state: State,
    row: dict[str, Any],
    extras: Mapping[str, Any],
    make_key: Callable[[str], certdata.PrivateKey],
    faults: Faults,
) -> Key:
    errors: Errors = {}
    kind = extras.get("private_key_type", "RSA2048")
    if "private_key_type" not in extras and f.CSR03_DEFAULT_RSA1024 in faults:
        kind = "RSA1024"
    if extras.get("certificate"):  # "" is what a read shows: no certificate
        errors["certificate"] = [CSR_NO_CERTIFICATE_ON_CREATE]
    try:
        dn = parse_dn(extras.get("dn", ""))
    except ValueError as error:
        errors["dn"] = [str(error)]
        dn = []
    try:
        extra_names = parse_alt_names(extras.get("additional_subject_alt_names", ""))
    except ValueError as error:
        errors["additional_subject_alt_names"] = [str(error)]
        extra_names = []
    key: certdata.PrivateKey | None = None
    subject: x509.Name | None = None
    subject_name = row["subject_name"]
    names: list[str] = []
    if row["tls_certificate"] is not None:
        temporary = f.CSR10_RENEWAL_FROM_TEMPORARY in faults
        source = _renewal_source(state, row["tls_certificate"], errors, allow_temporary=temporary)
        if kind == "UPLOAD":
            errors["private_key_type"] = [RENEWAL_KEEPS_KEY]
        if source is not None:
            cert, key = source
            cn = certdata.attribute(cert.subject, NameOID.COMMON_NAME)
            if subject_name not in ("", cn):
                errors["subject_name"] = [RENEWAL_KEEPS_SUBJECT]
            subject_name = cn
            names = [cn, *certdata.san_values(cert)]
            if not dn:
                subject = cert.subject
            if f.CSR10_RENEWAL_NEW_KEY in faults:
                key = None
    else:
        if subject_name == "":
            errors["subject_name"] = [REQUIRED]
        elif len(subject_name) > 64:
            errors["subject_name"] = [CN_TOO_LONG]
        elif not valid_name(subject_name):
            errors["subject_name"] = [CN_NOT_A_NAME]
        elif f.CSR02_IP_COMMON_NAME_REFUSED in faults and _is_ip(subject_name):
            errors["subject_name"] = [CN_NOT_DNS]
        names = [] if f.CSR04_CN_NOT_IN_SANS in faults else [subject_name]
        if kind == "UPLOAD":
            if row["private_key"] == "":
                errors["private_key"] = [UPLOAD_NEEDS_KEY]
            else:
                key, key_errors = _uploaded_key(
                    row["private_key"], extras.get("private_key_passphrase", "")
                )
                errors.update(key_errors)
                ecc = isinstance(key, ec.EllipticCurvePrivateKey)
                if ecc and f.CSR03_ECC_KEY_REFUSED in faults:
                    errors["private_key"] = [RSA_KEYS_ONLY]
    _fail(CERTIFICATE_SIGNING_REQUEST, errors)
    if key is None:
        key = certdata.new_key(kind) if kind == "RSA1024" else make_key(kind)
    if subject is None:
        subject = x509.Name([*dn, x509.NameAttribute(NameOID.COMMON_NAME, subject_name)])
    alt_names = list(dict.fromkeys([*names, *extra_names]))
    row.update(
        subject_name=subject_name,
        private_key=certdata.key_pem(key),
        csr=_build_csr(key, subject, alt_names, extras, faults),
    )
    return state.table(CERTIFICATE_SIGNING_REQUEST).add(row)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _build_csr(
    key: certdata.PrivateKey,
    subject: x509.Name,
    alt_names: list[str],
    options: Mapping[str, Any],
    faults: Faults,
) -> str:
    """The PEM CSR with the options ``ad_compatible``, ``eku_server_auth`` and
    ``eku_client_auth`` of ``options`` (defaults: off, on, on) and the CSR-01/CSR-05 faults."""
    template = bool(options.get("ad_compatible", False))
    if f.CSR05_TEMPLATE_ALWAYS in faults:
        template = True
    if f.CSR05_TEMPLATE_NEVER in faults:
        template = False
    client_auth = bool(options.get("eku_client_auth", True))
    if f.CSR01_SERVER_AUTH_ONLY in faults:
        client_auth = False
    return certdata.build_csr(
        key,
        subject,
        alt_names,
        ad_compatible=template,
        server_auth=bool(options.get("eku_server_auth", True)),
        client_auth=client_auth,
    )


def _modify_csr(row: dict[str, Any], body: Mapping[str, Any], faults: Faults) -> None:
    """The fault ``csr07_csr_modifiable``: regenerate the CSR (same key) with the subject,
    SAN, template and EKU changes of ``body``; what ``body`` leaves out is kept."""
    old = x509.load_pem_x509_csr(row["csr"].encode("ascii"))
    errors: Errors = {}
    cn = body.get("subject_name", row["subject_name"])
    if not (0 < len(cn) <= 64 and valid_name(cn)):
        errors["subject_name"] = [CN_NOT_A_NAME]
    dn: list[x509.NameAttribute] | None = None
    extra: list[str] = []
    try:
        dn = parse_dn(body["dn"]) if "dn" in body else None
    except ValueError as error:
        errors["dn"] = [str(error)]
    try:
        extra = parse_alt_names(body.get("additional_subject_alt_names", ""))
    except ValueError as error:
        errors["additional_subject_alt_names"] = [str(error)]
    _fail(CERTIFICATE_SIGNING_REQUEST, errors)
    others = [a for a in old.subject if a.oid != NameOID.COMMON_NAME] if dn is None else dn
    subject = x509.Name([*others, x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    try:
        sans = old.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        old_names = [str(n.value) for n in sans]
    except x509.ExtensionNotFound:
        old_names = []
    if "additional_subject_alt_names" in body:
        old_names = [row["subject_name"]]
    names = [cn if n == row["subject_name"] else n for n in old_names]
    try:
        usages = set(old.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    options = {
        "ad_compatible": certdata.MS_TEMPLATE_OID in [e.oid for e in old.extensions],
        "eku_server_auth": ExtendedKeyUsageOID.SERVER_AUTH in usages,
        "eku_client_auth": ExtendedKeyUsageOID.CLIENT_AUTH in usages,
    }
    options |= {k: body[k] for k in options if k in body}
    key = certdata.load_stored_key(row["private_key"])
    alt_names = list(dict.fromkeys([*names, *extra]))
    row.update(subject_name=cn, csr=_build_csr(key, subject, alt_names, options, faults))


def _complete_csr(
    state: State, key: Key, row: dict[str, Any], body: Mapping[str, Any], faults: Faults
) -> Key | None:
    rdef = CERTIFICATE_SIGNING_REQUEST
    changed = [
        n for n in body if n != "certificate" and n in rdef.fields and not rdef.fields[n].readonly
    ]
    if changed and f.CSR07_CSR_MODIFIABLE in faults and "certificate" not in body:
        _modify_csr(row, body, faults)
        return None
    if changed:
        _fail(rdef, {n: [CSR_IMMUTABLE] for n in changed})
    if "certificate" not in body:
        return None
    certificate = body["certificate"]
    if certificate == "":
        _fail(rdef, {"certificate": [BLANK]})
    csr_key = certdata.load_stored_key(row["private_key"])
    pairing = f.CSR08_COMPLETION_KEY_UNCHECKED not in faults
    try:
        contents = tls_contents(
            certificate, csr_key, {}, "", key_field="certificate", check_pairing=pairing
        )
    except ValidationError as error:
        raise ValidationError(rdef.name, error.errors) from None
    table = state.table(TLS_CERTIFICATE)
    leaf = certdata.load_certificate(certdata.pem_blocks(contents["certificate"])[0].text)
    candidates = [
        k
        for k, r in table.rows.items()
        if r["subject_name"] == contents["subject_name"] and certdata.same_key(_leaf(r), leaf)
    ]
    if row["tls_certificate"] in candidates:
        candidates.insert(0, row["tls_certificate"])
    if f.CSR09_RENEWAL_ADDED_ALONGSIDE in faults:
        candidates = []
    if candidates:
        target = candidates[0]
        if not contents["parameters"]:
            contents["parameters"] = table.rows[target]["parameters"]
        table.rows[target].update(contents)
    else:
        new_row = TLS_CERTIFICATE.default_row()
        new_row.update(contents)
        target = _store(table.rows, table, new_row)
    if f.CSR08_CSR_KEPT not in faults:
        del state.table(rdef).rows[key]
    return target


# -- entry points from the model ---------------------------------------------------------


def create(
    rdef: ResourceDef,
    state: State,
    row: dict[str, Any],
    extras: Mapping[str, Any],
    make_key: Callable[[str], certdata.PrivateKey] = certdata.new_key,
    faults: Faults = NO_FAULTS,
) -> Key:
    """POST: validate the certificate data, store, return the key (maybe an existing one).
    ``faults``: the active faults (``faults`` module), in this and every entry point."""
    if rdef is TLS_CERTIFICATE:
        return _create_tls(state, row, extras, faults)
    if rdef is CA_CERTIFICATE:
        return _create_ca(state, row)
    return _create_csr(state, row, extras, make_key, faults)


def update(
    rdef: ResourceDef,
    state: State,
    key: Key,
    row: dict[str, Any],
    body: Mapping[str, Any],
    faults: Faults = NO_FAULTS,
) -> str | None:
    """PATCH; returns the URI of a TLS certificate a CSR completion produced, else None."""
    if rdef is TLS_CERTIFICATE:
        _update_tls(state, key, row, body)
    elif rdef is CA_CERTIFICATE:
        if "certificate" in body:
            row.update(ca_contents(row["certificate"]))
        state.table(CA_CERTIFICATE).rows[key] = row
    else:
        target = _complete_csr(state, key, state.table(rdef).rows[key], body, faults)
        return TLS_CERTIFICATE.uri(target) if target is not None else None
    return None


def render(
    rdef: ResourceDef,
    state: State,
    key: Key,
    out: dict[str, Any],
    faults: Faults = NO_FAULTS,
    users: dict[Key, list[str]] | None = None,
) -> None:
    """Fill in the computed fields of a rendered object (``nodes``; ``users``: what
    `users_by_certificate` says, when the caller renders many)."""
    if rdef is TLS_CERTIFICATE:
        out["nodes"] = list(
            (users if users is not None else users_by_certificate(state)).get(key, [])
        )
        if f.TLS12_DATES_MISREPORTED in faults:
            for name in ("start_date", "end_date"):
                moment = dt.datetime.strptime(out[name], _METADATA_TIME)
                out[name] = (moment + dt.timedelta(days=365)).strftime(_METADATA_TIME)


_METADATA_TIME = "%Y-%m-%dT%H:%M:%S.%f"  # certdata.describe's format


def temporary_row(common_name: str, index: int, now: dt.datetime) -> dict[str, Any]:
    """The stored row of a shipped self-signed certificate.

    Built once per process and name (fast resets; a trust anchor that stays valid across
    resets and clock moves, e.g. the simulator's ``ca_file``), valid from the day before the
    first build of any of them (``now``'s date then).
    """
    return dict(_temporary_row(common_name, index, now.date()))


_temporary_cache: dict[tuple[str, int], dict[str, Any]] = {}
_temporary_days: list[dt.date] = []  # the day of the first build
_temporary_lock = threading.Lock()


def _temporary_row(common_name: str, index: int, day: dt.date) -> dict[str, Any]:
    cache_key = (common_name, index)
    with _temporary_lock:
        if cache_key not in _temporary_cache:
            if not _temporary_days:
                _temporary_days.append(day)
            key = keycache.shipped_key(index)
            first = _temporary_days[0]
            start = dt.datetime.combine(first, dt.time(), dt.UTC) - dt.timedelta(days=1)
            cert = certdata.self_signed_certificate(key, common_name, start, TEMPORARY_DAYS)
            row = TLS_CERTIFICATE.default_row()
            row.update(
                certificate=certdata.to_pem(cert),
                private_key=certdata.key_pem(key),
                parameters=keycache.shipped_dh_parameters(),
                **_metadata(cert, with_sans=True),
            )
            _temporary_cache[cache_key] = row
        return _temporary_cache[cache_key]


# -- import ------------------------------------------------------------------------------

IMPORT = "certificates_import"


def import_bundle(state: State, body: Any, faults: Faults = NO_FAULTS) -> dict[str, Any]:
    """``POST command/v1/platform/certificates_import/``: route a PEM bundle (see module doc)."""
    if not isinstance(body, dict):
        raise BadRequest("Malformed JSON in request body: expected a JSON object")
    errors: Errors = {n: [UNKNOWN] for n in body if n not in ("bundle", "private_key_passphrase")}
    bundle, passphrase = body.get("bundle"), body.get("private_key_passphrase", "")
    if bundle is None:
        errors["bundle"] = [REQUIRED]
    elif not isinstance(bundle, str):
        errors["bundle"] = [NOT_STRING]
    if not isinstance(passphrase, str):
        errors["private_key_passphrase"] = [NOT_STRING]
    if errors:
        raise ValidationError(IMPORT, errors)
    assert isinstance(bundle, str) and isinstance(passphrase, str)
    try:
        plan = _plan_import(bundle, passphrase, f.CA02_IMPORT_SERVER_AS_CA in faults)
    except KeyProblem as error:
        field = error.field if error.field == "private_key_passphrase" else "bundle"
        raise ValidationError(IMPORT, {field: [error.message]}) from None
    except CertError as error:
        raise ValidationError(IMPORT, {"bundle": [error.message]}) from None
    result: dict[str, Any] = {"tls_certificates": [], "ca_certificates": [], "ignored": 0}
    for rdef, row in plan:
        table = state.table(rdef)
        same = [k for k, r in table.rows.items() if _identity(r) == _identity(row)]
        listing = "tls_certificates" if rdef is TLS_CERTIFICATE else "ca_certificates"
        if same and f.CA02_IMPORT_DUPLICATES_ADDED in faults:
            result[listing].append(rdef.uri(table.add(row)))
            continue
        if same and all(
            table.rows[same[0]][n] == row[n] for n in ("certificate", "parameters") if n in row
        ):
            result["ignored"] += 1
            continue
        result[listing].append(rdef.uri(_store(table.rows, table, row)))
    added = len(result["tls_certificates"]) + len(result["ca_certificates"])
    return {
        "status": "success",
        "message": f"Imported {added} certificate(s); {result['ignored']} duplicate(s) ignored.",
        "result": result,
    }


def _plan_import(
    bundle: str, passphrase: str, server_as_ca: bool = False
) -> list[tuple[ResourceDef, dict[str, Any]]]:
    """What an import would store, in order; ``server_as_ca`` (a fault) routes server
    certificates to the CA list and ignores the keys."""
    blocks = certdata.pem_blocks(bundle)
    if not blocks:
        raise CertError("No PEM-formatted certificates found in the bundle.")
    keys: list[certdata.PrivateKey] = []
    servers: list[tuple[str, list[certdata.Block]]] = []
    cas: list[str] = []
    for block in blocks:
        if block.label in certdata.CSR_LABELS:
            raise CertError(certdata.CSR_NOT_CERTIFICATE)
        if block.label in certdata.KEY_LABELS:
            keys.append(certdata.load_private_key(block, passphrase))
        elif block.label in certdata.PARAM_LABELS:
            if not servers:
                raise CertError("DH/EC parameters must follow the server certificate they are for.")
            servers[-1][1].append(block)
        elif block.label == "CERTIFICATE":
            cert = certdata.load_certificate(block.text)
            if certdata.is_ca(cert) or server_as_ca:
                cas.append(certdata.to_pem(cert))
            else:
                servers.append((certdata.to_pem(cert), []))
        else:
            raise CertError(f"Unsupported PEM block in the bundle: {block.label}.")
    plan: list[tuple[ResourceDef, dict[str, Any]]] = []
    used: set[int] = set()
    for pem, params in servers:
        cert = certdata.load_certificate(pem)
        match = next((i for i, k in enumerate(keys) if certdata.pairs(cert, k)), None)
        if match is None:
            raise CertError(
                f"No private key in the bundle pairs with the certificate for "
                f"{certdata.display_name(cert.subject) or cert.subject.rfc4514_string()}."
            )
        used.add(match)
        row = TLS_CERTIFICATE.default_row()
        row.update(
            certificate=pem,
            private_key=certdata.key_pem(keys[match]),
            parameters=certdata.parse_parameters(params).text,
            **_metadata(cert, with_sans=True),
        )
        plan.append((TLS_CERTIFICATE, row))
    if len(used) != len(keys) and not server_as_ca:
        raise CertError("A private key in the bundle pairs with no certificate in it.")
    for pem in cas:
        row = CA_CERTIFICATE.default_row()
        row.update(ca_contents(pem))
        plan.append((CA_CERTIFICATE, row))
    return plan


# -- download / export -------------------------------------------------------------------

DOWNLOAD = "download"


@dataclass(frozen=True)
class Download:
    """A file to hand to the client."""

    filename: str
    content_type: str
    data: bytes


def export_ca(state: State, faults: Faults = NO_FAULTS) -> Download:
    """Every custom trusted CA certificate as ``ca-certificates.pem`` (id order)."""
    rows = state.table(CA_CERTIFICATE).rows
    keys = sorted(rows)
    if f.CA03_EXPORT_OMITS_ONE in faults:
        keys = keys[:-1]
    text = "".join(rows[k]["certificate"] for k in keys)
    name = "ca_certificates.pem" if f.CA03_EXPORT_WRONG_NAME in faults else "ca-certificates.pem"
    return Download(name, "application/x-pem-file", text.encode("ascii"))


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "certificate"


def download(
    state: State,
    body: Any,
    resolve: Callable[[str, str], Key | None],
    faults: Faults = NO_FAULTS,
) -> Download:
    """Download TLS certificates as PEM or PKCS#12 (see ``control`` for the request shape)."""
    if not isinstance(body, dict):
        raise BadRequest("Malformed JSON in request body: expected a JSON object")
    allowed = {"certificates", "format", "include_chain", "include_private_key", "passphrase"}
    errors: Errors = {n: [UNKNOWN] for n in body if n not in allowed}
    uris = body.get("certificates")
    fmt = body.get("format", "pem")
    include_chain = body.get("include_chain", True)
    include_key = body.get("include_private_key", False)
    passphrase = body.get("passphrase", "")
    keys: list[Key] = []
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        errors["certificates"] = ["Enter a non-empty list of tls_certificate resource URIs."]
    else:
        for uri in uris:
            found = resolve(TLS_CERTIFICATE.name, uri)
            if found is None:
                errors.setdefault("certificates", []).append(f"Object does not exist: {uri}")
            elif found not in keys:
                keys.append(found)
    if fmt not in ("pem", "pkcs12"):
        errors["format"] = ["Value must be 'pem' or 'pkcs12'."]
    for name, value in (("include_chain", include_chain), ("include_private_key", include_key)):
        if not isinstance(value, bool):
            errors[name] = [f"“{value}” value must be either True or False."]
    if not isinstance(passphrase, str):
        errors["passphrase"] = [NOT_STRING]
    elif include_key is True and passphrase == "" and f.TLS14_KEY_WITHOUT_PASSPHRASE not in faults:
        errors["passphrase"] = [KEY_NEEDS_PASSPHRASE]
    rows = [state.table(TLS_CERTIFICATE).rows[k] for k in keys]
    temporary_ok = f.TLS14_TEMPORARY_DOWNLOAD_ALLOWED in faults
    if any(certdata.self_signed(_leaf(r)) for r in rows) and not temporary_ok:
        errors.setdefault("certificates", []).append(TEMPORARY_DOWNLOAD)
    if fmt == "pkcs12" and include_key is True and len(rows) > 1:
        errors["format"] = ["A PKCS#12 download holds one private key: download one at a time."]
    if errors:
        raise ValidationError(DOWNLOAD, errors)
    assert isinstance(passphrase, str)
    kind = "keycert" if include_key else "certificate"
    base = f"{_safe_name(rows[0]['subject_name'])}_{kind}" if len(rows) == 1 else f"all_{kind}s"
    if f.TLS14_WRONG_FILE_NAME in faults:
        base = _safe_name(rows[0]["subject_name"]) if len(rows) == 1 else "certificates"
    if fmt == "pkcs12":
        row = rows[0] if len(rows) == 1 else None
        certs = [c for r in rows for c in [_leaf(r), *(_chain(r) if include_chain else [])]]
        key = certdata.load_stored_key(row["private_key"]) if include_key and row else None
        if key is not None and not certdata.pairs(certs[0], key):  # only after a pairing fault
            raise ValidationError(DOWNLOAD, {"certificates": [certdata.KEY_MISMATCH]})
        data = certdata.pkcs12_bytes(base, key, certs, passphrase)
        return Download(f"{base}.pfx", "application/x-pkcs12", data)
    parts: list[str] = []
    for row in rows:
        if include_key:
            parts.append(certdata.key_pem(certdata.load_stored_key(row["private_key"]), passphrase))
        blocks = certdata.pem_blocks(row["certificate"])
        parts += [b.text for b in (blocks if include_chain else blocks[:1])]
    return Download(f"{base}.pem", "application/x-pem-file", "".join(parts).encode("ascii"))


def csr_download(row: Mapping[str, Any], faults: Faults = NO_FAULTS) -> Download:
    """The UI's CSR Download: the PEM CSR as ``<subject_name>.csr``, never the private key."""
    name = _safe_name(row["subject_name"])
    text = row["csr"]
    if f.CSR06_DOWNLOAD_INCLUDES_KEY in faults:
        text = row["private_key"] + text
    filename = f"{name}_csr.pem" if f.CSR06_DOWNLOAD_WRONG_NAME in faults else f"{name}.csr"
    return Download(filename, "application/pkcs10", text.encode("ascii"))


# -- alarms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm the state calls for."""

    name: str
    level: str
    instance: str
    node: str
    details: str


def certificate_alarms(
    state: State, now: dt.datetime, faults: Faults = NO_FAULTS
) -> list[AlarmSpec]:
    """The certificate alarms of the current state at time ``now`` (INFERRED names/levels;
    ``node`` is the affected node's IPv4 address, or the primary Management Node's for
    certificate expiry — the guide: "An alarm is raised on the Management Node")."""
    out: list[AlarmSpec] = []
    tls_rows = state.table(TLS_CERTIFICATE).rows
    ca_rows = state.table(CA_CERTIFICATE).rows
    cas = [_leaf(r) for _, r in sorted(ca_rows.items())]
    for kind, _key, node in _nodes(state):
        label = f"{kind} {node['name']}"
        if node["tls_certificate"] is None:
            out.append(
                AlarmSpec(
                    ALARM_NO_CERTIFICATE,
                    "error",
                    node["name"],
                    node["address"],
                    f"The {label} has no associated TLS certificate.",
                )
            )
            continue
        row = tls_rows[node["tls_certificate"]]
        if not certdata.chain_complete(_leaf(row), [*_chain(row), *cas]):
            out.append(
                AlarmSpec(
                    ALARM_INCOMPLETE_CHAIN,
                    "warning",
                    node["name"],
                    node["address"],
                    f"The TLS certificate {row['subject_name']} of the {label} has an "
                    "incomplete chain of trust to the root CA certificate.",
                )
            )
    managers = state.table(MANAGEMENT_VM).rows
    primary = next((r["address"] for _, r in sorted(managers.items()) if r["primary"]), "")
    for rdef, rows, what, names in (
        (TLS_CERTIFICATE, tls_rows, "TLS", (ALARM_TLS_EXPIRING, ALARM_TLS_EXPIRED)),
        (CA_CERTIFICATE, ca_rows, "trusted CA", (ALARM_CA_EXPIRING, ALARM_CA_EXPIRED)),
    ):
        for key, row in sorted(rows.items()):
            end = certdata.not_after(_leaf(row))
            instance = f"{rdef.name}/{key}"
            subject = row["subject_name"] or row["raw_subject"]
            if end <= now:
                out.append(
                    AlarmSpec(
                        names[1],
                        "error",
                        instance,
                        primary,
                        f"The {what} certificate {subject} has expired (on {format_time(end)}).",
                    )
                )
            elif end - now <= EXPIRY_WARNING:
                out.append(
                    AlarmSpec(
                        names[0],
                        "warning",
                        instance,
                        primary,
                        f"The {what} certificate {subject} is due to expire within the next "
                        f"30 days (on {format_time(end)}).",
                    )
                )
    dropped = {
        name
        for fault, names in (
            (f.TLS13_NO_MISSING_CERTIFICATE_ALARM, (ALARM_NO_CERTIFICATE,)),
            (f.TLS13_NO_INCOMPLETE_CHAIN_ALARM, (ALARM_INCOMPLETE_CHAIN,)),
            (f.TLS13_NO_EXPIRY_ALARM, ALARM_NAMES[2:]),
        )
        if fault in faults
        for name in names
    }
    return [alarm for alarm in out if alarm.name not in dropped]


# -- snapshots ---------------------------------------------------------------------------


def check_restored(state: State, faults: Faults = NO_FAULTS) -> None:
    """Raise ValueError unless every certificate object in ``state`` is consistent (its PEM
    parses, its key pairs with it, its metadata is what the certificate says). While a fault
    that stores unpaired keys is active, a key need not pair."""
    pairing = not faults & f.UNPAIRED_KEYS
    for rdef in (TLS_CERTIFICATE, CA_CERTIFICATE):
        for key, row in state.table(rdef).rows.items():
            try:
                if rdef is TLS_CERTIFICATE:
                    private = certdata.load_stored_key(row["private_key"])
                    expected = tls_contents(
                        row["certificate"], private, {}, row["parameters"], check_pairing=pairing
                    )
                    expected.pop("private_key")
                else:
                    expected = ca_contents(row["certificate"])
            except (ValidationError, CertError):
                raise ValueError(f"{rdef.name} {key!r}: invalid certificate data") from None
            if any(row[name] != value for name, value in expected.items()):
                raise ValueError(f"{rdef.name} {key!r}: metadata does not match the certificate")
    for key, row in state.table(CERTIFICATE_SIGNING_REQUEST).rows.items():
        try:
            private = certdata.load_stored_key(row["private_key"])
            csr = x509.load_pem_x509_csr(row["csr"].encode("ascii"))
            ok = certdata.spki(csr.public_key()) == certdata.spki(private.public_key())
        except (CertError, ValueError, UnicodeEncodeError):
            ok = False
        if not ok:
            raise ValueError(f"certificate_signing_request {key!r}: invalid key or csr")
