"""Cross-field rules, evaluated on the object that a write would produce.

They run only when every field of the request validated on its own, and before anything is
stored, so a request that breaks a rule changes nothing. Each rule returns
``{field: [messages]}`` (empty when the object is acceptable).

Sourced: the media port range "must contain at least 100 ports" (pexip-api-reference.md §2);
``client_certificate`` "Requires LDAP to be included as an authentication source" (§1.2, §6.4);
``eject_last_participant_backstop_timeout`` is 0 (never eject) or 60–86400 (the schema's help).
INFERRED: the exact wording of the messages other than the 100-ports one; that ``start <= end``
is enforced for both port ranges; that LDAP sources need ``ldap_server`` and ``ldap_base_dn``
(the real node validates LDAP settings when the source includes LDAP, per the TF provider's
tests). Not enforced (unknown on the real node): overlap of signalling and media ranges, SNMP
credentials being present for ``AUTHPRIV``, OIDC settings for OIDC sources.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.pexip.resourcedef import ResourceDef

Errors = dict[str, list[str]]
MIN_MEDIA_PORTS = 100
MIN_EJECT_TIMEOUT = 60
LDAP_REQUIRED = "This field is required when the authentication source includes LDAP."
CLIENT_CERT_NEEDS_LDAP = (
    "Requiring a client certificate requires LDAP to be included as an authentication source."
)


def _global(row: dict[str, Any]) -> Errors:
    errors: Errors = {}
    if 0 < row["eject_last_participant_backstop_timeout"] < MIN_EJECT_TIMEOUT:
        errors["eject_last_participant_backstop_timeout"] = [
            f"Enter 0 (never eject) or a value from {MIN_EJECT_TIMEOUT} to 86400."
        ]
    if row["signalling_ports_start"] > row["signalling_ports_end"]:
        errors["signalling_ports_end"] = [
            "The signalling port range end must not be lower than its start."
        ]
    start, end = row["media_ports_start"], row["media_ports_end"]
    if start > end:
        errors["media_ports_end"] = ["The media port range end must not be lower than its start."]
    elif end - start + 1 < MIN_MEDIA_PORTS:
        errors["media_ports_end"] = [
            f"The media port range must contain at least {MIN_MEDIA_PORTS} ports."
        ]
    return errors


def _authentication(row: dict[str, Any]) -> Errors:
    errors: Errors = {}
    ldap = "LDAP" in row["source"].split("+")
    if ldap:
        for name in ("ldap_server", "ldap_base_dn"):
            if row[name] == "":
                errors[name] = [LDAP_REQUIRED]
    if row["client_certificate"] != "NO" and not ldap:
        errors["client_certificate"] = [CLIENT_CERT_NEEDS_LDAP]
    return errors


_RULES: dict[tuple[str, str], Callable[[dict[str, Any]], Errors]] = {
    ("configuration", "global"): _global,
    ("configuration", "authentication"): _authentication,
}


def check(rdef: ResourceDef, row: dict[str, Any]) -> Errors:
    """The cross-field errors of the stored ``row`` a write to ``rdef`` would produce."""
    rule = _RULES.get((rdef.api, rdef.name))
    return rule(row) if rule else {}
