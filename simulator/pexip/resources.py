"""The resource definitions: field specs per resource, allowed methods, embedded relations.

Sources: pexip-api.md and pexip-api-reference.md (§2 global, §3 nodes, §4 locations, §5
certificates, §6 users, §7 DNS/NTP/syslog/licences, §8 alarms). Values are case-sensitive.

Allowed methods follow the reference's §1.5 table. Deviations and INFERRED choices, in one place:
- PATCH and DELETE on a list (bulk update / delete-all on the real API) answer 405.
- ``management_vm``: list GET+POST, detail GET+PATCH+DELETE (the sourced table has no PUT); the
  table's detail POST has no known meaning and answers 405.
- ``static_routes``: there is no static_route resource yet, so only [] is accepted.
- Nodes' ``tls_certificate`` takes a ``tls_certificate`` URI (or null); assigning one replaces
  the node's previous certificate (the certificate resources: ``certificate_resources``).
- Required fields beyond the documented ones (INFERRED): ``address`` and ``netmask`` of nodes.
- ``worker_vm.password`` length limit 100 and ``licence.entitlement_id`` limit 100: INFERRED.
- ``worker_vm.deployment_type`` values other than MANUAL-PROVISION-ONLY and VMWARE: INFERRED.
- Permission codenames, licence product/concurrency values, status ``deploy_status``: INFERRED.
"""

from __future__ import annotations

from simulator.pexip.certificate_resources import (
    CA_CERTIFICATE,
    CERTIFICATE_SIGNING_REQUEST,
    TLS_CERTIFICATE,
)
from simulator.pexip.fields import (
    BooleanField,
    DateTimeField,
    Field,
    IntegerField,
    IPAddressField,
    StringField,
    ToManyField,
    ToOneField,
)
from simulator.pexip.resourcedef import (
    CRUD_DETAIL,
    CRUD_LIST,
    READ,
    SINGLETON_DETAIL,
    ResourceDef,
    id_field,
    uri_field,
)
from simulator.pexip.status_resources import (
    ALARM,
    STATUS_LICENSING,
    STATUS_MANAGEMENT_VM,
    STATUS_WORKER_VM,
)


def _str(max_length: int, default: str = "", **kw: object) -> StringField:
    return StringField(max_length=max_length, default=default, **kw)  # type: ignore[arg-type]


def _required_str(max_length: int, **kw: object) -> StringField:
    return StringField(max_length=max_length, required=True, blank=False, **kw)  # type: ignore[arg-type]


def _choice(choices: tuple[str, ...], default: str, help_text: str = "") -> StringField:
    return StringField(choices=choices, default=default, help_text=help_text)


def _int(
    lo: int, hi: int, default: int | None, nullable: bool = False, help_text: str = ""
) -> IntegerField:
    return IntegerField(
        min_value=lo, max_value=hi, default=default, nullable=nullable, help_text=help_text
    )


def _bool(default: bool, help_text: str = "") -> BooleanField:
    return BooleanField(default=default, help_text=help_text)


def _dscp(help_text: str) -> IntegerField:
    return _int(0, 63, 0, nullable=True, help_text=help_text)


def _mtu() -> IntegerField:
    return _int(512, 1500, 1500, help_text="Maximum Transmission Unit in bytes.")


def _ports(default: int) -> IntegerField:
    return _int(10000, 49999, default)


def _to_many(to: str, embed: bool) -> ToManyField:
    return ToManyField(to=to, embed=embed)


def _node_common(worker: bool) -> dict[str, Field]:
    """Fields shared by ``management_vm`` and ``worker_vm`` (pexip-api-reference.md §3).

    On ``worker_vm`` hostname and address are unique too.
    """
    return {
        "name": _required_str(32, unique=True, help_text="The name of this node."),
        "description": _str(250),
        "address": IPAddressField(required=True, blank=False, max_length=255, unique=worker),
        "netmask": IPAddressField(required=True, blank=False, max_length=255),
        "gateway": IPAddressField(max_length=255),
        "hostname": _required_str(63, unique=worker, help_text="The hostname of this node."),
        "domain": _str(192),
        "alternative_fqdn": _str(255, help_text="An identity for this node (SIP TLS FQDN)."),
        "ipv6_address": IPAddressField(version=6, nullable=True, default=None, max_length=255),
        "ipv6_gateway": IPAddressField(version=6, nullable=True, default=None, max_length=255),
        "static_nat_address": IPAddressField(nullable=True, default=None, max_length=255),
        "static_routes": _to_many("static_route", embed=True),
        "tls_certificate": ToOneField(to="tls_certificate", nullable=True),
        "enable_ssh": _choice(("GLOBAL", "OFF", "ON"), "GLOBAL"),
        "snmp_mode": _choice(("DISABLED", "STANDARD", "AUTHPRIV"), "DISABLED"),
        "snmp_community": _str(16, "public"),
        "snmp_username": _str(100),
        "snmp_authentication_password": StringField(
            max_length=100, min_length=8, secret=True, clear_kept=True
        ),
        "snmp_privacy_password": StringField(
            max_length=100, min_length=8, secret=True, clear_kept=True
        ),
        "snmp_system_contact": _str(70, "admin@domain.com"),
        "snmp_system_location": _str(70, "Virtual machine"),
    }


GLOBAL = ResourceDef(
    name="global",
    api="configuration",
    verbose_name="Global configuration",
    singleton=True,
    list_methods=READ,
    detail_methods=SINGLETON_DETAIL,
    fields={
        "enable_sip": _bool(True, "Enable SIP (TCP and TLS)."),
        "enable_sip_udp": _bool(False, "Enable SIP over UDP."),
        "enable_h323": _bool(True),
        "enable_webrtc": _bool(True),
        "enable_rtmp": _bool(True),
        "enable_chat": _bool(True),
        "enable_dialout": _bool(True, "Enable outbound calls."),
        "enable_legacy_dialout_api": _bool(False),
        "enable_application_api": _bool(True, "Support for Infinity Connect and mobile apps."),
        "enable_directory": _bool(True),
        "enable_fecc": _bool(True),
        "enable_turn_443": _bool(False),
        "management_qos": _dscp("DSCP value for management traffic."),
        "enable_ssh": _bool(True, "Enable SSH (can be overridden on individual nodes)."),
        "signalling_ports_start": _ports(33000),
        "signalling_ports_end": _ports(39999),
        "media_ports_start": _ports(40000),
        "media_ports_end": _ports(49999),
        "ocsp_state": _choice(("OFF", "ON", "OVERRIDE"), "OFF"),
        "ocsp_responder_url": _str(255),
        "sip_tls_cert_verify_mode": _choice(("OFF", "ON"), "OFF"),
        "crypto_mode": _choice(("besteffort", "on", "off"), "besteffort"),
        "legacy_api_username": _str(100),
        "legacy_api_password": StringField(max_length=100, secret=True),
        "legacy_api_http": BooleanField(
            default=False, deprecated=True, help_text="Deprecated and ignored."
        ),
        "logon_banner": _str(4096),
        "site_banner": _str(255),
        "management_session_timeout": _int(5, 1440, 30, help_text="Minutes."),
        "session_timeout_enabled": _bool(True),
        "error_reporting_enabled": _bool(False, "Incident reporting."),
        "error_reporting_url": _str(255, "https://acr.pexip.com"),
        "contact_email_address": _str(100),
        "enable_analytics": _bool(False, "Send deployment and usage statistics to Pexip."),
        "max_pixels_per_second": _choice(("sd", "hd", "fullhd"), "hd"),
        "logs_max_age": _int(0, 3650, 0, help_text="Days; 0 disables."),
        "content_security_policy_state": _bool(True),
        "bdpm_pin_checks_enabled": _bool(True),
        "bdpm_scan_quarantine_enabled": _bool(True),
        "deployment_uuid": StringField(readonly=True, help_text="Generated deployment id."),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

MANAGEMENT_VM = ResourceDef(
    name="management_vm",
    api="configuration",
    verbose_name="Management node",
    list_methods=CRUD_LIST,
    detail_methods=("GET", "PATCH", "DELETE"),
    fields={
        **_node_common(worker=False),
        "mtu": _mtu(),
        "dns_servers": _to_many("dns_server", embed=True),
        "ntp_servers": _to_many("ntp_server", embed=True),
        "syslog_servers": _to_many("syslog_server", embed=True),
        "primary": BooleanField(default=False, readonly=True),
        "initializing": _bool(False),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

WORKER_VM = ResourceDef(
    name="worker_vm",
    api="configuration",
    verbose_name="Conferencing node",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        **_node_common(worker=True),
        "system_location": ToOneField(to="system_location", required=True),
        "node_type": _choice(("CONFERENCING", "PROXYING"), "CONFERENCING"),
        "deployment_type": _choice(
            (
                "MANUAL-PROVISION-ONLY",
                "MANUAL-ESXI6",
                "MANUAL-ESXI7",
                "MANUAL-HYPERV",
                "MANUAL-KVM",
                "MANUAL-XEN",
                "VMWARE",
            ),
            "MANUAL-PROVISION-ONLY",
        ),
        "vm_cpu_count": _int(2, 128, 4),
        "vm_system_memory": _int(2000, 64000, 4096, help_text="MB."),
        "password": StringField(max_length=100, write_only=True, help_text="Write-only."),
        "maintenance_mode": _bool(False),
        "maintenance_mode_reason": _str(250),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

SYSTEM_LOCATION = ResourceDef(
    name="system_location",
    api="configuration",
    verbose_name="System location",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        "name": _required_str(250, unique=True),
        "description": _str(250),
        "mtu": _mtu(),
        "media_qos": _dscp("DSCP value for media traffic."),
        "signalling_qos": _dscp("DSCP value for signalling traffic."),
        "dns_servers": _to_many("dns_server", embed=True),
        "ntp_servers": _to_many("ntp_server", embed=True),
        "syslog_servers": _to_many("syslog_server", embed=True),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

DNS_SERVER = ResourceDef(
    name="dns_server",
    api="configuration",
    verbose_name="DNS server",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        "address": IPAddressField(version=None, required=True, blank=False, max_length=255),
        "description": _str(250),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

NTP_SERVER = ResourceDef(
    name="ntp_server",
    api="configuration",
    verbose_name="NTP server",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        "address": _required_str(255),
        "description": _str(250),
        "key": StringField(max_length=100, secret=True, help_text="Stored as a SHA1 hash."),
        "key_id": _int(1, 65535, None, nullable=True),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

SYSLOG_SERVER = ResourceDef(
    name="syslog_server",
    api="configuration",
    verbose_name="Syslog server",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        "address": _required_str(255),
        "port": _int(1, 65535, 514),
        "transport": _choice(("udp", "tcp", "tls"), "udp"),
        "audit_log": _bool(False),
        "support_log": _bool(False),
        "web_log": _bool(False),
        "description": _str(250),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

PERMISSION = ResourceDef(
    name="permission",
    api="configuration",
    verbose_name="Permission",
    list_methods=READ,
    detail_methods=READ,
    fields={
        "name": StringField(readonly=True, max_length=255),
        "codename": StringField(readonly=True, max_length=100),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

ROLE = ResourceDef(
    name="role",
    api="configuration",
    verbose_name="Role",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        "name": _required_str(250, unique=True),
        "permissions": _to_many("permission", embed=True),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

LDAP_ROLE = ResourceDef(
    name="ldap_role",
    api="configuration",
    verbose_name="LDAP role",
    list_methods=CRUD_LIST,
    detail_methods=CRUD_DETAIL,
    fields={
        "name": _required_str(250, unique=True),
        "ldap_group_dn": _required_str(255),
        "roles": _to_many("role", embed=False),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

# Note: the simulator stores and validates these settings but does not yet enforce them on its
# own login (HTTP Basic with the simulator's credentials always works); later work will.
AUTHENTICATION = ResourceDef(
    name="authentication",
    api="configuration",
    verbose_name="Authentication",
    singleton=True,
    list_methods=READ,
    detail_methods=SINGLETON_DETAIL,
    fields={
        "source": _choice(
            ("LOCAL", "LDAP", "LDAP+LOCAL", "OIDC", "OIDC+LOCAL", "LDAP+OIDC+LOCAL"), "LOCAL"
        ),
        "client_certificate": _choice(("NO", "CN", "UPN"), "NO"),
        "ldap_server": _str(255),
        "ldap_base_dn": _str(255),
        "ldap_bind_username": _str(255),
        "ldap_bind_password": StringField(max_length=100, secret=True, clear_kept=True),
        "ldap_permit_no_tls": _bool(False, "Permit LDAP queries over an insecure connection."),
        "ldap_user_search_dn": _str(255),
        "ldap_user_filter": _str(1024, "(&(objectclass=person)(!(objectclass=computer)))"),
        "ldap_user_search_filter": _str(1024, "(|(uid={username})(sAMAccountName={username}))"),
        "ldap_user_group_attributes": _str(1024, "memberOf"),
        "ldap_group_search_dn": _str(255),
        "ldap_group_filter": _str(
            1024,
            "(|(objectclass=group)(objectclass=groupOfNames)"
            "(objectclass=groupOfUniqueNames)(objectclass=posixGroup))",
        ),
        "ldap_group_membership_filter": _str(
            1024, "(|(member={userdn})(uniquemember={userdn})(memberuid={useruid}))"
        ),
        "ldap_use_global_catalog": _bool(False),
        "api_oauth2_disable_basic": _bool(False),
        "api_oauth2_allow_all_perms": _bool(False),
        "api_oauth2_expiration": _int(1, 2147483647, 3600, help_text="Seconds."),
        "id": id_field(),
        "resource_uri": uri_field(),
    },
)

LICENCE = ResourceDef(
    name="licence",
    api="configuration",
    verbose_name="Licence",
    key_field="fulfillment_id",
    list_methods=CRUD_LIST,
    detail_methods=("GET", "DELETE"),
    fields={
        "fulfillment_id": StringField(readonly=True, unique=True),
        "entitlement_id": _required_str(100, help_text="Entitlement to activate."),
        "product_id": StringField(readonly=True),
        "concurrent": IntegerField(readonly=True, default=0),
        "status": StringField(readonly=True),
        "start_date": DateTimeField(),
        "expiration_date": DateTimeField(),
        "resource_uri": uri_field(),
    },
)

RESOURCES: dict[tuple[str, str], ResourceDef] = {
    (r.api, r.name): r
    for r in (
        GLOBAL,
        MANAGEMENT_VM,
        WORKER_VM,
        SYSTEM_LOCATION,
        ROLE,
        PERMISSION,
        LDAP_ROLE,
        AUTHENTICATION,
        DNS_SERVER,
        NTP_SERVER,
        SYSLOG_SERVER,
        LICENCE,
        TLS_CERTIFICATE,
        CERTIFICATE_SIGNING_REQUEST,
        CA_CERTIFICATE,
        STATUS_MANAGEMENT_VM,
        STATUS_WORKER_VM,
        ALARM,
        STATUS_LICENSING,
    )
}


def config(name: str) -> ResourceDef:
    """The configuration resource called ``name`` (KeyError if there is none)."""
    return RESOURCES[("configuration", name)]


def status(name: str) -> ResourceDef:
    """The status resource called ``name`` (KeyError if there is none)."""
    return RESOURCES[("status", name)]


def stored_resources() -> list[ResourceDef]:
    """Resources whose objects are kept in state (configuration resources and alarms)."""
    return [r for r in RESOURCES.values() if not r.computed]


def index(api: str) -> dict[str, dict[str, str]]:
    """The ``GET /api/admin/<api>/v1/`` document: each resource's list and schema URIs."""
    return {
        r.name: {"list_endpoint": r.list_uri, "schema": r.schema_uri}
        for r in RESOURCES.values()
        if r.api == api
    }
