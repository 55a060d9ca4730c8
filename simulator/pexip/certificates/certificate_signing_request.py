"""The ``certificate_signing_request`` resource: new and renewal CSRs, completion, download.

- POST generates the key (RSA2048 default, RSA4096, ECDSAP256) or takes an uploaded one
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
- Download (the UI's "Download" on the Change Certificate signing request page; see
  ``control``): the PEM CSR as ``<subject_name>.csr``, never its key.

Faults: CSR-01 to CSR-10 (EKUs, IP Common Names, key types, SANs, template, download, modifiable
CSRs, completion key check, kept CSRs, renewals).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simulator.pexip import certdata
from simulator.pexip import faults as f
from simulator.pexip.certificate_resources import (
    CERTIFICATE_SIGNING_REQUEST,
    TLS_CERTIFICATE,
)
from simulator.pexip.certificates.common import (
    NO_FAULTS,
    Download,
    Errors,
    Faults,
    fail,
    leaf_of,
    safe_name,
    store_row,
    uploaded_key,
)
from simulator.pexip.certificates.tls_certificate import tls_contents
from simulator.pexip.errors import ValidationError
from simulator.pexip.fields import BLANK, REQUIRED, Key
from simulator.pexip.state import State

NO_AUTO_CSR = (
    "It was not possible to automatically create a certificate signing request from this "
    "certificate"
)
# INFERRED wordings.
CSR_IMMUTABLE = "A certificate signing request cannot be modified: delete it and create a new one."
CSR_NO_CERTIFICATE_ON_CREATE = (
    "A certificate can only be uploaded to complete an existing certificate signing request."
)
UPLOAD_NEEDS_KEY = "This field is required when private_key_type is UPLOAD."
RENEWAL_KEEPS_KEY = "A renewal request uses the private key of its certificate."
RENEWAL_KEEPS_SUBJECT = "A renewal request keeps the subject name of its certificate."
CN_TOO_LONG = "Ensure the Common Name has at most 64 characters."
CN_NOT_A_NAME = "The Common Name must be a DNS name or an IP address (it is included in the SANs)."
# Wordings of the faults' refusals (``faults``; never seen without one).
CN_NOT_DNS = "The Common Name must be a DNS name."
RSA_KEYS_ONLY = "Unsupported private key type: upload an RSA private key."

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
    cert = leaf_of(row)
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


def create(
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
                key, key_errors = uploaded_key(
                    row["private_key"], extras.get("private_key_passphrase", "")
                )
                errors.update(key_errors)
                ecc = isinstance(key, ec.EllipticCurvePrivateKey)
                if ecc and f.CSR03_ECC_KEY_REFUSED in faults:
                    errors["private_key"] = [RSA_KEYS_ONLY]
    fail(CERTIFICATE_SIGNING_REQUEST, errors)
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
    fail(CERTIFICATE_SIGNING_REQUEST, errors)
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


def update(
    state: State, key: Key, row: dict[str, Any], body: Mapping[str, Any], faults: Faults
) -> Key | None:
    """PATCH: complete the CSR with a ``certificate`` (returns the TLS certificate's key) or
    refuse any other change; None when nothing was produced."""
    rdef = CERTIFICATE_SIGNING_REQUEST
    changed = [
        n for n in body if n != "certificate" and n in rdef.fields and not rdef.fields[n].readonly
    ]
    if changed and f.CSR07_CSR_MODIFIABLE in faults and "certificate" not in body:
        _modify_csr(row, body, faults)
        return None
    if changed:
        fail(rdef, {n: [CSR_IMMUTABLE] for n in changed})
    if "certificate" not in body:
        return None
    certificate = body["certificate"]
    if certificate == "":
        fail(rdef, {"certificate": [BLANK]})
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
        if r["subject_name"] == contents["subject_name"] and certdata.same_key(leaf_of(r), leaf)
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
        target = store_row(table.rows, table, new_row)
    if f.CSR08_CSR_KEPT not in faults:
        del state.table(rdef).rows[key]
    return target


def csr_download(row: Mapping[str, Any], faults: Faults = NO_FAULTS) -> Download:
    """The UI's CSR Download: the PEM CSR as ``<subject_name>.csr``, never the private key."""
    name = safe_name(row["subject_name"])
    text = row["csr"]
    if f.CSR06_DOWNLOAD_INCLUDES_KEY in faults:
        text = row["private_key"] + text
    filename = f"{name}_csr.pem" if f.CSR06_DOWNLOAD_WRONG_NAME in faults else f"{name}.csr"
    return Download(filename, "application/pkcs10", text.encode("ascii"))
