"""The fields of the appliance's Create form: what the guide asks for, validated.

The guide's Security :: Certificate Installation > Create form (the same for a self-signed
certificate and for a certificate request): **Certificate Friendly Name**, **Key** (size),
**Subject Name** (Country, State/Province, City (Locality), Organization, Organizational Unit,
Name (Common Name)) and **Subject Alternative Names**. Rules, each error naming its field:

- ``friendly_name``: required text, at most 255 characters (INFERRED limit).
- ``key_size``: an RSA key size from the Key dropdown, ``KEY_SIZES`` (INFERRED: the guide lists
  no sizes; "Verify with your certificate authority which key strengths they support").
- ``country``: "your organization's two-character Country code": exactly two letters (stored in
  upper case; INFERRED: not checked against the ISO 3166 list).
- ``state`` ("if applicable"), ``city``, ``organization``, ``unit``: optional text; ``state``
  and ``city`` at most 128 characters, ``organization`` and ``unit`` at most 64 (RFC 5280's
  upper bounds).
- ``common_name``: required, at most 64 characters. "If you entered the fully qualified domain
  name as your subject's common name, you must re-enter this as the first SAN entry": a
  common name that is an FQDN (a DNS name of two or more labels, or a wildcard) must equal the
  first of ``alternative_names`` (case-insensitive).
- ``alternative_names``: "one or more subject alternative names", each the fully qualified
  domain name of a DNS A-record (two or more labels) or a wildcard domain name
  (``*.example.com``: ``*`` as the whole leftmost label over at least two labels); no
  duplicates. IP addresses are refused: "If you wish to use IP addresses instead of DNS names,
  contact BeyondTrust Technical Support first."
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from simulator.beyondtrust.errors import ValidationError
from simulator.beyondtrust.pki import is_address

__all__ = [
    "FIELDS",
    "KEY_SIZES",
    "CertificateForm",
    "SubjectName",
    "certificate_form",
    "is_fqdn",
    "parse_form",
]

KEY_SIZES = (2048, 3072, 4096)
FRIENDLY_NAME_MAX = 255
MAX_ALTERNATIVE_NAMES = 100
IP_REFUSED = (
    "IP addresses are not accepted as subject alternative names: the guide says "
    '"If you wish to use IP addresses instead of DNS names, contact BeyondTrust Technical '
    'Support first."'
)
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# field -> (OID, maximum length), in the order the subject is written (C first, CN last).
_SUBJECT = {
    "country": (NameOID.COUNTRY_NAME, 2),
    "state": (NameOID.STATE_OR_PROVINCE_NAME, 128),
    "city": (NameOID.LOCALITY_NAME, 128),
    "organization": (NameOID.ORGANIZATION_NAME, 64),
    "unit": (NameOID.ORGANIZATIONAL_UNIT_NAME, 64),
    "common_name": (NameOID.COMMON_NAME, 64),
}
FIELDS = ("friendly_name", "key_size", *_SUBJECT, "alternative_names")


@dataclass(frozen=True)
class SubjectName:
    """The Subject Name fields; empty optional fields are left out of the certificate."""

    country: str
    common_name: str
    state: str = ""
    city: str = ""
    organization: str = ""
    unit: str = ""

    def x509_name(self) -> x509.Name:
        """``C=, ST=, L=, O=, OU=, CN=`` (shown CN first, as the guide's list does)."""
        values = {
            "country": self.country,
            "state": self.state,
            "city": self.city,
            "organization": self.organization,
            "unit": self.unit,
            "common_name": self.common_name,
        }
        return x509.Name(
            [
                x509.NameAttribute(oid, values[name])
                for name, (oid, _) in _SUBJECT.items()
                if values[name]
            ]
        )


@dataclass(frozen=True)
class CertificateForm:
    """A validated Create form."""

    friendly_name: str
    key_size: int
    subject: SubjectName
    alternative_names: tuple[str, ...]


def _dns_labels(name: str) -> list[str] | None:
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return labels


def is_fqdn(text: str) -> bool:
    """A fully qualified DNS name of two or more labels, or a wildcard over one
    (``*.example.com``); IP addresses are not."""
    name = text[2:] if text.startswith("*.") else text
    return not is_address(text) and _dns_labels(name) is not None and "." in name


def _san(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("must be a non-empty DNS name", field)
    name = value.strip()
    if is_address(name):
        raise ValidationError(IP_REFUSED, field)
    wildcard = name.startswith("*.")
    base = name[2:] if wildcard else name
    if "*" in base:
        raise ValidationError(
            "a wildcard must be the whole leftmost label, as in *.example.com", field
        )
    if _dns_labels(base) is None:
        raise ValidationError(
            "must be a fully qualified domain name such as access.example.com (letters, digits "
            "and hyphens in two or more dot-separated labels) or a wildcard such as "
            "*.example.com",
            field,
        )
    return name


def _text(body: Mapping[str, Any], field: str, limit: int, required: bool) -> str:
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise ValidationError("is required", field)
        return ""
    if not isinstance(value, str):
        raise ValidationError("must be text", field)
    text = value.strip()
    if required and not text:
        raise ValidationError("is required", field)
    if _CONTROL.search(text):
        raise ValidationError("must not contain control characters", field)
    if len(text) > limit:
        raise ValidationError(f"must be at most {limit} characters", field)
    return text


def _key_size(value: Any) -> int:
    if value is None:
        raise ValidationError("is required", "key_size")
    if isinstance(value, bool) or not isinstance(value, int) or value not in KEY_SIZES:
        sizes = ", ".join(str(s) for s in KEY_SIZES)
        raise ValidationError(f"must be one of the Key sizes {sizes} (RSA bits)", "key_size")
    return value


def _alternative_names(value: Any) -> tuple[str, ...]:
    field = "alternative_names"
    if value is None or (isinstance(value, Sequence) and not isinstance(value, str) and not value):
        raise ValidationError("at least one subject alternative name is required", field)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError("must be a list of DNS names", field)
    if len(value) > MAX_ALTERNATIVE_NAMES:
        raise ValidationError(f"at most {MAX_ALTERNATIVE_NAMES} names are accepted", field)
    names: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        name = _san(item, f"{field}[{index}]")
        if name.lower() in seen:
            raise ValidationError(f"{name} is listed twice", f"{field}[{index}]")
        seen.add(name.lower())
        names.append(name)
    return tuple(names)


def parse_form(body: Any, *, fqdn_common_name_first_san: bool = True) -> CertificateForm:
    """Validate a Create form given as a JSON object (keys ``FIELDS``); raises
    ``ValidationError`` naming the first field at fault (unknown keys included).

    ``fqdn_common_name_first_san=False`` skips the rule that a common name which is an FQDN
    must be the first subject alternative name: only the ``bt02`` fault (``faults``) does."""
    if not isinstance(body, Mapping):
        raise ValidationError("the request body must be a JSON object")
    unknown = sorted(str(k) for k in body if k not in FIELDS)
    if unknown:
        raise ValidationError(f"unknown field (known: {', '.join(FIELDS)})", unknown[0])
    friendly_name = _text(body, "friendly_name", FRIENDLY_NAME_MAX, True)
    key_size = _key_size(body.get("key_size"))
    country = _text(body, "country", 64, True)
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        raise ValidationError(
            "must be exactly two letters: the organization's ISO 3166 country code, e.g. US",
            "country",
        )
    values = {
        name: _text(body, name, limit, name == "common_name")
        for name, (_, limit) in _SUBJECT.items()
        if name != "country"
    }
    subject = SubjectName(country=country.upper(), **values)
    names = _alternative_names(body.get("alternative_names"))
    cn = subject.common_name
    if fqdn_common_name_first_san and is_fqdn(cn) and cn.lower() != names[0].lower():
        raise ValidationError(
            f"the common name {cn} is a fully qualified domain name, so it must also be the "
            f"first subject alternative name (the first is {names[0]})",
            "alternative_names",
        )
    return CertificateForm(friendly_name, key_size, subject, names)


def certificate_form(
    *,
    friendly_name: str,
    key_size: int,
    country: str,
    common_name: str,
    alternative_names: Sequence[str],
    state: str = "",
    city: str = "",
    organization: str = "",
    unit: str = "",
) -> CertificateForm:
    """The same validation as ``parse_form`` for Python callers (keyword arguments)."""
    return parse_form(
        {
            "friendly_name": friendly_name,
            "key_size": key_size,
            "country": country,
            "state": state,
            "city": city,
            "organization": organization,
            "unit": unit,
            "common_name": common_name,
            "alternative_names": list(alternative_names),
        }
    )
