"""What the Management Node API promises of the fields Accord reads: their JSON types.

Every object the client reads is checked here before anyone looks at it (`check`): a field
Accord reads that is missing, null where the API never gives null, or of another type is a
`Problem`, which the client turns into an `accord.http.UnexpectedAnswer` naming the system,
the method, the URL and the field. So a step never compares the guide's value with a string
``"false"``, never reads ``None`` as "not set" where the API promises a value, and never
raises a ``KeyError`` or ``TypeError`` of its own.

Only the fields Accord reads are declared (a newer or older version's other fields are none of
its business). Types and nullability are the real API's as `../shared/pexip-api.md` gives them
(the Go SDK's pointer types are the nullable ones); the simulator declares the same
(``tests/test_pexip_schema.py`` holds the two together).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.http import json_type
from accord.secrets import is_secret_field

API = "/api/admin/"


@dataclass(frozen=True)
class Kind:
    """A JSON type as the API uses it."""

    name: str
    accepts: Callable[[Any], bool]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


BOOL = Kind("a boolean", lambda v: isinstance(v, bool))
INT = Kind("an integer", _is_int)
STR = Kind("a string", lambda v: isinstance(v, str))
URI = Kind("a resource URI", lambda v: isinstance(v, str) and v.startswith(API))
# A to-one relation as read: its URI, or the related object embedded.
REF = Kind("a resource URI or object", lambda v: URI.accepts(v) or isinstance(v, dict))
STRINGS = Kind(
    "a list of strings", lambda v: isinstance(v, list) and all(STR.accepts(i) for i in v)
)


@dataclass(frozen=True)
class Spec:
    """One field: its kind, whether null is allowed, and for a to-many relation the related
    resource (its items are URIs, or embedded objects checked as that resource's)."""

    kind: Kind
    nullable: bool = False
    related: str | None = None


def _f(kind: Kind, nullable: bool = False) -> Spec:
    return Spec(kind, nullable)


def _many(resource: str) -> Spec:
    return Spec(Kind("a list", lambda v: isinstance(v, list)), nullable=True, related=resource)


_OBJECT = {"id": _f(INT), "resource_uri": _f(URI)}
_NODE = {
    **_OBJECT,
    "name": _f(STR),
    "address": _f(STR),
    "netmask": _f(STR),
    "gateway": _f(STR),
    "hostname": _f(STR),
    "domain": _f(STR),
    "alternative_fqdn": _f(STR),
    "ipv6_address": _f(STR, nullable=True),
    "ipv6_gateway": _f(STR, nullable=True),
    "tls_certificate": _f(REF, nullable=True),
    "enable_ssh": _f(STR),
    "snmp_mode": _f(STR),
    "snmp_community": _f(STR),
    "snmp_username": _f(STR),
    "snmp_authentication_password": _f(STR),
    "snmp_privacy_password": _f(STR),
}
_SERVERS = {
    "dns_servers": _many("dns_server"),
    "ntp_servers": _many("ntp_server"),
    "syslog_servers": _many("syslog_server"),
}
_CERTIFICATE = {
    **_OBJECT,
    "certificate": _f(STR),
    "subject_name": _f(STR),
    "start_date": _f(STR),
    "end_date": _f(STR),
}

FIELDS: dict[tuple[str, str], dict[str, Spec]] = {
    ("configuration", "global"): {
        **_OBJECT,
        **{
            name: _f(BOOL)
            for name in (
                "enable_sip",
                "enable_sip_udp",
                "enable_h323",
                "enable_webrtc",
                "enable_rtmp",
                "enable_chat",
                "enable_dialout",
                "enable_legacy_dialout_api",
                "enable_application_api",
                "enable_ssh",
                "session_timeout_enabled",
                "error_reporting_enabled",
                "enable_analytics",
            )
        },
        "management_qos": _f(INT, nullable=True),
        "signalling_ports_start": _f(INT),
        "signalling_ports_end": _f(INT),
        "media_ports_start": _f(INT),
        "media_ports_end": _f(INT),
        "ocsp_state": _f(STR),
        "ocsp_responder_url": _f(STR),
        "sip_tls_cert_verify_mode": _f(STR),
        "legacy_api_username": _f(STR),
        "legacy_api_password": _f(STR),
        "logon_banner": _f(STR),
        "management_session_timeout": _f(INT),
    },
    ("configuration", "authentication"): {
        **_OBJECT,
        "source": _f(STR),
        "client_certificate": _f(STR),
        "ldap_server": _f(STR),
        "ldap_base_dn": _f(STR),
        "ldap_bind_username": _f(STR),
        "ldap_bind_password": _f(STR),
        "ldap_permit_no_tls": _f(BOOL),
    },
    ("configuration", "management_vm"): {**_NODE, **_SERVERS, "primary": _f(BOOL)},
    ("configuration", "worker_vm"): {
        **_NODE,
        "system_location": _f(REF),
        "node_type": _f(STR),
        "deployment_type": _f(STR),
    },
    ("configuration", "system_location"): {
        **_OBJECT,
        **_SERVERS,
        "name": _f(STR),
        "mtu": _f(INT),
        "media_qos": _f(INT, nullable=True),
        "signalling_qos": _f(INT, nullable=True),
    },
    ("configuration", "role"): {**_OBJECT, "name": _f(STR), "permissions": _many("permission")},
    ("configuration", "permission"): {**_OBJECT, "name": _f(STR), "codename": _f(STR)},
    ("configuration", "ldap_role"): {
        **_OBJECT,
        "name": _f(STR),
        "ldap_group_dn": _f(STR),
        "roles": _many("role"),
    },
    ("configuration", "dns_server"): {**_OBJECT, "address": _f(STR)},
    ("configuration", "ntp_server"): {
        **_OBJECT,
        "address": _f(STR),
        "key": _f(STR),
        "key_id": _f(INT, nullable=True),
    },
    ("configuration", "syslog_server"): {
        **_OBJECT,
        "address": _f(STR),
        "port": _f(INT),
        "transport": _f(STR),
    },
    ("configuration", "licence"): {"resource_uri": _f(URI)},
    ("configuration", "tls_certificate"): {**_CERTIFICATE, "nodes": _f(STRINGS)},
    ("configuration", "ca_certificate"): _CERTIFICATE,
    ("configuration", "certificate_signing_request"): {
        **_OBJECT,
        "subject_name": _f(STR),
        "csr": _f(STR),
        "tls_certificate": _f(REF, nullable=True),
    },
    ("status", "management_vm"): {**_OBJECT, "name": _f(STR)},
    ("status", "worker_vm"): {**_OBJECT, "name": _f(STR)},
    ("status", "alarm"): {
        **_OBJECT,
        "name": _f(STR),
        "level": _f(STR),
        "details": _f(STR),
        "node": _f(STR),
    },
}


class Problem(ValueError):
    """Where an object breaks the API's promise (``objects[2].name``) and how."""


def resource_of(path: str) -> tuple[str, str] | None:
    """``(api, resource)`` of a list or object path (``/api/admin/configuration/v1/dns_server/3/``),
    or None for any other path."""
    parts = path.split("?")[0].removeprefix(API).strip("/").split("/")
    if len(parts) >= 3 and parts[1] == "v1":
        api = parts[0]
        return (api, parts[2]) if (api, parts[2]) in FIELDS else None
    return None


def check(resource: tuple[str, str] | None, obj: Any, where: str = "") -> None:
    """Raise `Problem` unless ``obj`` is an object with every declared field of ``resource``
    present and of its type (an undeclared resource: only that it is an object)."""
    if not isinstance(obj, dict):
        raise Problem(f"{where or 'the answer'} is a {json_type(obj)}, not an object")
    fields = FIELDS.get(resource, {}) if resource is not None else {}
    for name, spec in fields.items():
        _check_field(obj, name, spec, where)


def _check_field(obj: Mapping[str, Any], name: str, spec: Spec, where: str) -> None:
    at = f"{where}.{name}" if where else name
    if name not in obj:
        raise Problem(f"{at}: missing")
    value = obj[name]
    if value is None:
        if spec.nullable:
            return
        raise Problem(f"{at}: null, where the API promises {spec.kind.name}")
    if not spec.kind.accepts(value):
        what = f"a {json_type(value)}" if is_secret_field(name) else _show(value)
        raise Problem(f"{at}: {what}, where the API promises {spec.kind.name}")
    if spec.related is not None:
        for index, item in enumerate(value):
            if isinstance(item, dict):
                check(("configuration", spec.related), item, f"{at}[{index}]")
            elif not URI.accepts(item):
                raise Problem(f"{at}[{index}]: {_show(item)}, where the API promises {REF.name}")


def _show(value: Any) -> str:
    """A value as a message shows it: its JSON type, and a short string's text."""
    kind = json_type(value)
    if isinstance(value, str | int | float | bool):
        text = repr(value)
        return f"the {kind} {text if len(text) <= 40 else text[:37] + '...'}"
    return f"a {kind}"
