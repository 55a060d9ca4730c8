"""The guide's secure baseline as data: what each Pexip object should hold for a given site.

The deployer applies these values; the Then-steps check the same ones. Each entry names the
requirement IDs it serves (``../shared/requirements.md``) and the guide's wording.

Secret fields (SNMP passwords, NTP keys, the LDAP bind password) come back from the management
API as a hash of the value, never the value; `secret_matches` is the one place that compares a
site secret with such a hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from accord.secrets import Secret
from accord.site import Pexip, Site

# Guide wording (global settings page, installation wizard) -> API field of `global`.
GLOBAL_LABELS: dict[str, str] = {
    "Enable SIP": "enable_sip",
    "Enable H.323": "enable_h323",
    "Enable WebRTC": "enable_webrtc",
    "Enable RTMP": "enable_rtmp",
    "Enable chat": "enable_chat",
    "Enable outbound calls": "enable_dialout",
    "Enable legacy dial-out API": "enable_legacy_dialout_api",
    "Enable support for Pexip Infinity Connect and Mobile App": "enable_application_api",
    "DSCP value for management traffic": "management_qos",
    "Enable SSH": "enable_ssh",
    "OCSP state": "ocsp_state",
    "OCSP responder URL": "ocsp_responder_url",
    "SIP TLS certificate verification mode": "sip_tls_cert_verify_mode",
    "Login banner text": "logon_banner",
    "Enable management web interface session timeout": "session_timeout_enabled",
    "Management web interface session timeout": "management_session_timeout",
    "Enable incident reporting": "error_reporting_enabled",
    "Send deployment and usage statistics to Pexip": "enable_analytics",
}

PROTOCOL_LABELS: dict[str, str] = {
    "sip": "Enable SIP",
    "h323": "Enable H.323",
    "webrtc": "Enable WebRTC",
    "rtmp": "Enable RTMP",
}

# Guide wording of the API's choice values, for messages and evidence.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "ocsp_state": {"OFF": "Off", "ON": "On", "OVERRIDE": "Override"},
    "sip_tls_cert_verify_mode": {"OFF": "Off", "ON": "On"},
    "snmp_mode": {
        "DISABLED": "Off",
        "STANDARD": "SNMPv2c read-only",
        "AUTHPRIV": "SNMPv3 read-only",
    },
    "source": {
        "LOCAL": "Local database",
        "LDAP": "LDAP database",
        "LDAP+LOCAL": "LDAP database and local database",
    },
    "client_certificate": {
        "NO": "Not required",
        "CN": "Required (user identity in subject CN)",
        "UPN": "Required (user identity in subjectAltName userPrincipalName)",
    },
}

# Permissions the guide names (role "permission" objects are looked up by these names).
LOG_AND_SNAPSHOT = ("May view logs", "May generate system snapshot")
AUDITOR_ROLE = "Auditor"
AUDITOR_PERMISSIONS = (
    "Is an administrator",
    "May use web interface",
    "May use API",
    "May view logs",
    "May generate system snapshot",
)
SHIPPED_ROLES = ("Read-only", "Read-write")

SNMP_SECURE_MODE = "AUTHPRIV"  # the web interface's "SNMPv3 read-only"


def stored_secret(value: Secret) -> str:
    """The form in which the management API returns a secret field: SHA-1 hex of the value.

    INFERRED: the guide says NTP keys are "stored as a SHA1 hash", and the real API is known to
    return a hashed value for SNMP passwords; the exact format for every field is not
    published. Keep every comparison going through here so one change fixes it.
    """
    return hashlib.sha1(value.reveal().encode()).hexdigest()


def secret_matches(returned: str | None, value: Secret) -> bool:
    """Whether what the API returned for a secret field is the site's secret."""
    return bool(returned) and returned == stored_secret(value)


@dataclass(frozen=True)
class Related:
    """A to-many reference, compared by natural key (addresses, names) and written as URIs."""

    resource: str
    key: str  # the field that identifies a related object, e.g. "address" or "name"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Desired:
    """The fields one object should have. `match` finds it by a natural key, `create` if absent."""

    resource: str
    label: str
    fields: dict[str, Any]
    match: dict[str, Any] = field(default_factory=dict)
    singleton: bool = False


def global_fields(pexip: Pexip) -> dict[str, Any]:
    """Global settings (GLB-01..12, MGMT-01, MGMT-02)."""
    settings = pexip.global_
    fields: dict[str, Any] = {
        GLOBAL_LABELS[label]: proto in settings.protocols
        for proto, label in PROTOCOL_LABELS.items()
    }
    fields.update(
        enable_chat=False,
        enable_dialout=False,
        enable_legacy_dialout_api=False,
        enable_application_api=False,
        management_qos=settings.management_dscp,
        enable_ssh=False,
        signalling_ports_start=settings.signalling_ports.start,
        signalling_ports_end=settings.signalling_ports.end,
        media_ports_start=settings.media_ports.start,
        media_ports_end=settings.media_ports.end,
        ocsp_state="OVERRIDE",
        ocsp_responder_url=settings.ocsp_responder_url,
        sip_tls_cert_verify_mode="ON",
        legacy_api_username="",
        legacy_api_password="",
        logon_banner=settings.login_banner,
        session_timeout_enabled=True,
        management_session_timeout=settings.session_timeout_minutes,
        error_reporting_enabled=False,
        enable_analytics=False,
    )
    return fields


def node_fields(site: Site, node_name: str) -> dict[str, Any]:
    """Per-node settings: SNMPv3 (SNMP-01..03), SSH off (GLB-06), IPv6 (IPV6-01)."""
    snmp = site.pexip.snmp
    fields: dict[str, Any] = {
        "enable_ssh": "OFF",
        "snmp_mode": SNMP_SECURE_MODE,
        "snmp_username": snmp.username,
        "snmp_authentication_password": site.resolve(snmp.authentication_password),
        "snmp_privacy_password": site.resolve(snmp.privacy_password),
        "snmp_community": snmp.community,
    }
    ipv6 = site.pexip.ipv6
    if ipv6.enabled and node_name in ipv6.nodes:
        fields["ipv6_address"] = ipv6.nodes[node_name].address
        fields["ipv6_gateway"] = ipv6.nodes[node_name].gateway
    return fields


def server_relations(pexip: Pexip) -> dict[str, Related]:
    """DNS, NTP and syslog servers that the Management Node and every location use."""
    network = pexip.network
    return {
        "dns_servers": Related("dns_server", "address", tuple(network.dns_servers)),
        "ntp_servers": Related(
            "ntp_server", "address", tuple(s.address for s in network.ntp_servers)
        ),
        "syslog_servers": Related(
            "syslog_server", "address", tuple(s.address for s in network.syslog_servers)
        ),
    }


def location_fields(pexip: Pexip) -> dict[str, Any]:
    """Every location: DSCP media 51, signalling 40, MTU 1400 (LOC-01..03), and the servers."""
    locations = pexip.locations
    return {
        "media_qos": locations.media_dscp,
        "signalling_qos": locations.signalling_dscp,
        "mtu": locations.mtu,
        **server_relations(pexip),
    }


def server_objects(site: Site) -> list[Desired]:
    """The DNS, NTP (with key authentication) and syslog server objects (NET-01..03)."""
    network = site.pexip.network
    desired = [
        Desired("dns_server", f"DNS server {address}", {"address": address}, {"address": address})
        for address in network.dns_servers
    ]
    desired += [
        Desired(
            "ntp_server",
            f"NTP server {server.address}",
            {"address": server.address, "key_id": server.key_id, "key": site.resolve(server.key)},
            {"address": server.address},
        )
        for server in network.ntp_servers
    ]
    desired += [
        Desired(
            "syslog_server",
            f"syslog server {server.address}",
            {"address": server.address, "port": server.port, "transport": server.transport},
            {"address": server.address},
        )
        for server in network.syslog_servers
    ]
    return desired


def authentication_fields(site: Site, *, contingency: bool) -> dict[str, Any]:
    """Administrator authentication (AUTH-01, 02, 04; CONT-02, 03 for the contingency)."""
    ldap = site.pexip.ldap
    return {
        "source": "LDAP+LOCAL" if contingency else "LDAP",
        "client_certificate": "NO" if contingency else ldap.client_certificate,
        "ldap_server": ldap.server,
        "ldap_base_dn": ldap.base_dn,
        "ldap_bind_username": ldap.bind_username,
        "ldap_bind_password": site.resolve(ldap.bind_password),
        "ldap_permit_no_tls": False,
    }


# Guide wording of fields on other pages.
AUTHENTICATION_LABELS: dict[str, str] = {
    "Authentication source": "source",
    "Require client certificate": "client_certificate",
    "Allow insecure transport": "ldap_permit_no_tls",
    "LDAP server address": "ldap_server",
    "LDAP bind username": "ldap_bind_username",
    "LDAP bind password": "ldap_bind_password",
    "LDAP base DN": "ldap_base_dn",
}
NODE_LABELS: dict[str, str] = {
    "SNMP mode": "snmp_mode",
    "SNMP community": "snmp_community",
    "SNMPv3 username": "snmp_username",
    "SNMPv3 authentication password": "snmp_authentication_password",
    "SNMPv3 privacy password": "snmp_privacy_password",
    "IPv6 address": "ipv6_address",
    "IPv6 gateway": "ipv6_gateway",
    "Enable SSH": "enable_ssh",
}
LOCATION_LABELS: dict[str, str] = {
    "DSCP value for media": "media_qos",
    "DSCP value for signaling": "signalling_qos",
    "MTU": "mtu",
}


def choice_value(field_name: str, label: str) -> str:
    """The API value of a choice shown in the web interface as ``label`` (or the value itself)."""
    for value, shown in CHOICE_LABELS.get(field_name, {}).items():
        if shown == label:
            return value
    return label


def choice_label(field_name: str, value: Any) -> str:
    """How the web interface shows a choice value."""
    return CHOICE_LABELS.get(field_name, {}).get(value, repr(value))


def security_wizard_answers(site: Site) -> dict[str, Any]:
    """The security wizard's answers (section "Management Node deployment and bootstrap
    configuration"): the guide's, with the site's SIP listen ports and web session limits.

    The names are the simulator's console stand-in's (``/_sim/security_wizard``); a real
    Management Node has no API for them (the wizard is console-only).
    """
    wizard = site.pexip.security_wizard
    return {
        "fips_mode": True,
        "disable_system_administrator": True,
        "accept_icmpv6_redirects": False,
        "drop_closed_port_packets": True,
        "accept_multicast_icmpv6_echo": False,
        "ipv6_duplicate_address_detection": False,
        "sip_udp_port": wizard.sip_udp_port,
        "sip_tcp_port": wizard.sip_tcp_port,
        "sip_tls_port": wizard.sip_tls_port,
        "web_sessions_total": wizard.web_sessions_total,
        "web_sessions_per_user": wizard.web_sessions_per_user,
        "validate_host_headers": True,
        "tls10": False,
        "anonymous_dh_outbound": False,
    }


#: The wizard's questions, in the guide's words, for the deployer's console instructions.
SECURITY_WIZARD_QUESTIONS: dict[str, str] = {
    "fips_mode": "Enable FIPS 140-2 compliance mode",
    "disable_system_administrator": "Disable system administrator account",
    "accept_icmpv6_redirects": "Accept ICMPv6 redirects",
    "drop_closed_port_packets": "Drop incoming packets to closed ports rather than reject",
    "accept_multicast_icmpv6_echo": "Accept multicast ICMPv6 echo requests",
    "ipv6_duplicate_address_detection": "Enable IPv6 Duplicate Address Detection",
    "sip_udp_port": "SIP UDP listen port",
    "sip_tcp_port": "SIP TCP listen port",
    "sip_tls_port": "SIP TLS listen port",
    "web_sessions_total": "Active management web sessions",
    "web_sessions_per_user": "Active per-user management web sessions",
    "validate_host_headers": "Enable management web validation of host headers",
    "tls10": "Enable TLS 1.0",
    "anonymous_dh_outbound": "Enable Anonymous DH for outbound SIP/TLS",
}
