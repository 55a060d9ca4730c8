"""The site file: which systems to reach, where their credentials come from, and the site's values.

A site file is TOML. It never holds a plain password: every secret is a reference, either
``{ env = "NAME" }`` (an environment variable) or ``{ secret = "name" }`` (a key of the secrets
file named by ``site.secrets_file``, which must be readable by its owner only, mode 0600).

Everything the guide lets a site choose has the guide's value as its default; the few values the
guide leaves entirely to the site (OCSP responder, login banner, servers, SNMP user, LDAP server)
must be given. Validation happens on load: each problem is reported once, with the key's path::

    site.toml: pexip.global.management_dscp: Input should be less than or equal to 63

Example (the file ``accord sim --write-site DIR`` writes is a complete one)::

    [site]
    name = "lab"
    secrets_file = "secrets.toml"

    [systems.pexip.primary]
    url = "https://mgr.example.com/"
    ca_bundle = "ca.pem"
    username = "admin"
    password = { env = "ACCORD_PEXIP_PASSWORD" }

    [pexip.global]
    ocsp_responder_url = "http://ocsp.example.com/"
    login_banner = "Authorised use only."
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import stat
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from accord import secrets
from accord.requirements import ID_PATTERN, load_catalogue
from accord.secrets import Secret


class SiteError(Exception):
    """The site file (or its secrets file) cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CredentialRef(_Model):
    """Where a secret comes from: ``{ env = "NAME" }`` or ``{ secret = "name" }``, exactly one."""

    env: Annotated[str, Field(min_length=1)] | None = None
    secret: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CredentialRef:
        if (self.env is None) == (self.secret is None):
            raise ValueError('give exactly one of { env = "NAME" } or { secret = "name" }')
        return self


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a network (address/prefix length)") from exc


class ClientCertificate(_Model):
    """A client certificate (PEM, with its chain) and its private key (PEM, a file readable by
    its owner only), both paths relative to the site file."""

    certificate_file: Annotated[str, Field(min_length=1)]
    key_file: Annotated[str, Field(min_length=1)]


class ClientCertificates(_Model):
    """Client certificates for a Management Node that requires them (AUTH-04..06, MGMT-03),
    each signed by a CA in its trusted CA list.

    ``administrator``: an administrator whose identity (subject CN or userPrincipalName, as
    the site's ``pexip.ldap.client_certificate`` says) is in the LDAP directory, in a group
    mapped to a role. Every Accord client of this node presents it; the deployer refuses to
    require client certificates without it (it would lock itself out).
    ``not_in_directory``: an identity that is in no directory (AUTH-05 shows it is refused).
    ``local_administrator``: the local administrator account's name as its identity (AUTH-06
    shows that once the source is "LDAP database" it is refused).
    """

    administrator: ClientCertificate | None = None
    not_in_directory: ClientCertificate | None = None
    local_administrator: ClientCertificate | None = None


class SessionUser(_Model):
    """An administrator account that may log in with a password (an LDAP user)."""

    username: Annotated[str, Field(min_length=1)]
    password: CredentialRef


class PexipSystem(_Model):
    """A Management Node to reach (primary deployment, contingency deployment, or scratch).

    ``tls_server_name`` is the name its HTTPS certificate must be valid for when ``url`` names it
    by address (the guide's certificates carry FQDNs). ``address_map`` and ``port_map`` say how
    this machine reaches the nodes' addresses and ports when they are translated (a tunnel, a
    NAT, the simulator's loopback addresses): ``{"192.0.2.0/24" = "127.1.2.0/24"}`` maps each
    address of the first network to the same host of the second; ``{"443" = 8443}`` maps a port.

    ``console``: how the deployer reaches the node's console for the security wizard, which
    has no API: ``manual`` (a person runs ``securitywizard``; the deployer prints the answers)
    or ``simulator`` (the simulator's console stand-in, ``accord sim`` sites only).
    ``not_observable``: requirement ID → why this system cannot show it here (e.g. the
    simulator without root cannot drop packets): its scenarios are reported "not run", never
    passed.
    ``username``/``password``: the local administrator account (the deployer's until
    certificate-only access is on; AUTH-06 then shows it is refused).
    ``client_certificates``: see `ClientCertificates`.
    ``session_users``: (a scratch node's) LDAP administrators who may log in with a password,
    besides the local account: the web session limits (SECW-08) need one more user than the
    total limit divided by the per-user limit (the local account is one).
    """

    url: Annotated[str, Field(pattern=r"^https://[^/\s]+/?$")]
    ca_bundle: str | None = None
    tls_server_name: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    username: Annotated[str, Field(min_length=1)] = "admin"
    password: CredentialRef
    address_map: dict[str, str] = {}
    port_map: dict[str, Annotated[int, Field(ge=1, le=65535)]] = {}
    console: Literal["manual", "simulator"] = "manual"
    client_certificates: ClientCertificates = ClientCertificates()
    session_users: list[SessionUser] = []
    # What the deployment has, by the names its API lists (optional): a run then fails what
    # depends on them when the API shows fewer, more or others (`accord.pexip.inventory`).
    nodes: list[Annotated[str, Field(min_length=1)]] | None = None
    locations: list[Annotated[str, Field(min_length=1)]] | None = None
    # The deployment's VMs are kept powered off (a contingency deployment, CONT-05): its nodes
    # cannot be probed on the wire, and the wire scenarios say so rather than fail.
    powered_off: bool = False
    not_observable: dict[
        Annotated[str, Field(pattern=ID_PATTERN.pattern)],
        Annotated[str, Field(min_length=1, max_length=500)],
    ] = {}

    @field_validator("address_map")
    @classmethod
    def _networks(cls, value: dict[str, str]) -> dict[str, str]:
        for source, destination in value.items():
            a, b = _network(source), _network(destination)
            if a.version != b.version or a.prefixlen != b.prefixlen:
                raise ValueError(f"{source} and {destination} must be the same size of network")
        return value

    @field_validator("port_map")
    @classmethod
    def _ports(cls, value: dict[str, int]) -> dict[str, int]:
        for port in value:
            if not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ValueError(f"{port!r} is not a port number")
        return value


class PexipSystems(_Model):
    """``scratch`` is a Management Node where Accord may perform the guides' actions (upload,
    CSR, import...) to prove how the product behaves; it is never one of the verified ones."""

    primary: PexipSystem
    contingency: PexipSystem | None = None
    scratch: PexipSystem | None = None


class VsphereSystem(_Model):
    """The vCenter (or ESXi host) that runs the Pexip VMs: its SDK URL, read-only account."""

    url: Annotated[str, Field(pattern=r"^https://[^/\s]+(/sdk)?/?$")]
    ca_bundle: str | None = None
    username: Annotated[str, Field(min_length=1)]
    password: CredentialRef
    # The ESXi hosts that run the Pexip VMs, as vCenter names them (optional).
    hosts: list[Annotated[str, Field(min_length=1)]] | None = None


BeyondTrustRole = Literal["primary", "backup", "traffic_node"]
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
# A fully qualified host name: at least two labels, no wildcard.
Hostname = Annotated[str, Field(min_length=3, max_length=253, pattern=rf"^{_LABEL}(\.{_LABEL})+$")]
ApplianceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]


class ApplianceEntry(_Model):
    """A BeyondTrust Privileged Remote Access appliance: its own FQDN (``hostname``), its
    role in the site (``primary``, ``backup`` for failover, ``traffic_node`` of Atlas), and where
    its TLS listener is reached from here (``address``, default the hostname; ``port``, default
    443): a tunnel, a NAT or the simulator's loopback listener."""

    hostname: Hostname
    role: BeyondTrustRole
    address: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 443


class BeyondTrustScratch(_Model):
    """A simulated appliance of no site (``name`` in the simulator, its ``hostname``, where its
    TLS listener is reached) on which the guide's certificate actions are performed (create,
    import, export, renew, replace): never one of the verified appliances."""

    name: ApplianceName
    hostname: Hostname
    address: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 443


class BeyondTrustSystem(_Model):
    """The appliances of one BeyondTrust site by name (exactly one primary).

    ``api_url``/``ca_bundle``/``username``/``password``: the certificate API of Accord's
    appliance SIMULATOR only. A real appliance has no certificate API (its /appliance web
    interface only): leave them out for a real site; it is then verified on the wire and the
    deployer prints the guide's steps for a person to perform. ``scratch``: a simulated
    appliance for the guide's actions (needs ``api_url``); without one those scenarios are
    reported not run.
    """

    appliances: Annotated[dict[ApplianceName, ApplianceEntry], Field(min_length=1)]
    api_url: Annotated[str, Field(pattern=r"^https://[^/\s]+/?$")] | None = None
    ca_bundle: str | None = None
    username: Annotated[str, Field(min_length=1)] = "admin"
    password: CredentialRef | None = None
    scratch: BeyondTrustScratch | None = None

    @model_validator(mode="after")
    def _one_primary(self) -> BeyondTrustSystem:
        primaries = [n for n, a in self.appliances.items() if a.role == "primary"]
        if len(primaries) != 1:
            raise ValueError(
                f'exactly one appliance must have role = "primary", not {len(primaries)}'
                + (f" ({', '.join(primaries)})" if primaries else "")
            )
        hostnames = [a.hostname.lower() for a in self.appliances.values()]
        twice = sorted({h for h in hostnames if hostnames.count(h) > 1})
        if twice:
            raise ValueError(f"each appliance needs its own hostname: {', '.join(twice)} twice")
        if self.api_url is not None and self.password is None:
            raise ValueError("api_url (the simulator's certificate API) needs a password")
        if self.scratch is not None:
            if self.api_url is None:
                raise ValueError(
                    "scratch: only a simulated appliance can be acted on (it needs api_url)"
                )
            if self.scratch.name in self.appliances:
                raise ValueError(f"scratch: {self.scratch.name} is a verified appliance")
            if self.scratch.hostname.lower() in hostnames:
                raise ValueError(f"scratch: {self.scratch.hostname} is a verified appliance's")
        return self

    @property
    def primary(self) -> str:
        """The primary appliance's name."""
        return next(n for n, a in self.appliances.items() if a.role == "primary")

    def named(self, role: BeyondTrustRole) -> list[str]:
        """The names of the appliances with ``role``, in the site file's order."""
        return [n for n, a in self.appliances.items() if a.role == role]


class SiteSystems(_Model):
    pexip: PexipSystems
    vsphere: VsphereSystem | None = None
    beyondtrust: BeyondTrustSystem | None = None


Protocol = Literal["sip", "h323", "webrtc", "rtmp"]
Port = Annotated[int, Field(ge=10000, le=49999)]


class PortRange(_Model):
    start: Port
    end: Port

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.start > self.end:
            raise ValueError("start must not be greater than end")
        return self


class GlobalSettings(_Model):
    """Global settings the guide lets a site choose (section "Global settings")."""

    protocols: list[Protocol] = ["sip"]
    management_dscp: Annotated[int, Field(ge=0, le=63)] = 16
    signalling_ports: PortRange = PortRange(start=33000, end=39999)
    media_ports: PortRange = PortRange(start=40000, end=49999)
    ocsp_responder_url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=255)]
    login_banner: Annotated[str, Field(min_length=1, max_length=4096)]
    session_timeout_minutes: Annotated[int, Field(ge=5, le=1440)] = 10

    @field_validator("protocols")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each protocol may be listed once")
        return value


def _ip(value: str) -> str:
    ipaddress.ip_address(value)
    return value


class NtpServer(_Model):
    address: Annotated[str, Field(min_length=1, max_length=255)]
    key_id: Annotated[int, Field(ge=1, le=65535)]
    key: CredentialRef


class SyslogServer(_Model):
    address: Annotated[str, Field(min_length=1, max_length=255)]
    port: Annotated[int, Field(ge=1, le=65535)] = 514
    transport: Literal["udp", "tcp", "tls"] = "tls"


class NetworkServices(_Model):
    """Section "Securing network services": DNS, NTP, syslog."""

    dns_servers: Annotated[list[str], Field(min_length=2)]
    ntp_servers: Annotated[list[NtpServer], Field(min_length=2)]
    syslog_servers: Annotated[list[SyslogServer], Field(min_length=1)]

    @field_validator("dns_servers")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                _ip(item)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address") from exc
        return value


class Snmp(_Model):
    """The SNMP management station's SNMPv3 user (section "SNMP")."""

    username: Annotated[str, Field(min_length=1, max_length=100)]
    authentication_password: CredentialRef
    privacy_password: CredentialRef
    community: Annotated[str, Field(min_length=1, max_length=16)]

    @field_validator("community")
    @classmethod
    def _not_public(cls, value: str) -> str:
        if value == "public":
            raise ValueError('the guide requires a community other than "public"')
        return value


class RoleMapping(_Model):
    name: Annotated[str, Field(min_length=1, max_length=250)]
    group_dn: Annotated[str, Field(min_length=1, max_length=255)]
    roles: Annotated[list[str], Field(min_length=1)]


class Ldap(_Model):
    """Section "LDAP server connection details" and "LDAP group to role mapping"."""

    server: Annotated[str, Field(min_length=1, max_length=255)]
    base_dn: Annotated[str, Field(min_length=1, max_length=255)]
    bind_username: Annotated[str, Field(min_length=1, max_length=255)]
    bind_password: CredentialRef
    client_certificate: Literal["CN", "UPN"] = "CN"
    role_mappings: Annotated[list[RoleMapping], Field(min_length=1)]


class Locations(_Model):
    """Section "Location DSCP tags and MTU": the same values for every location."""

    media_dscp: Annotated[int, Field(ge=0, le=63)] = 51
    signalling_dscp: Annotated[int, Field(ge=0, le=63)] = 40
    mtu: Annotated[int, Field(ge=512, le=1500)] = 1400


class Ipv6Node(_Model):
    address: str
    gateway: str

    @field_validator("address", "gateway")
    @classmethod
    def _v6(cls, value: str) -> str:
        if not isinstance(ipaddress.ip_address(value), ipaddress.IPv6Address):
            raise ValueError(f"{value!r} is not an IPv6 address")
        return value


class Ipv6(_Model):
    """Section "IPv6 (optional)": when used, every node has an IPv6 address and gateway.

    ``nodes`` maps a node's name (as the Management Node lists it) to its addresses.
    """

    enabled: bool = False
    nodes: dict[str, Ipv6Node] = {}


Fqdn = Annotated[
    str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
]


class Certificates(_Model):
    """Section "TLS certificates" and the PKI bootstrap the deployer performs.

    ``trusted_ca_bundle``: PEM of the site CA's certificates (intermediates and root) that the
    platform's trusted CA list must hold; the deployer uploads them. ``sip_tls_fqdns``: a
    Conferencing Node's SIP TLS FQDN by node name (default: the node's own FQDN). How CSRs get
    signed: ``lab_ca`` names a folder with a lab CA (``accord sim`` writes one) that signs them
    at once; otherwise ``exchange_dir`` is a folder where the deployer writes each node's
    ``<fqdn>.csr`` and later imports ``<fqdn>.pem`` (the certificate and its chain) from the CA.
    ``renew_within_days``: the deployer replaces a certificate that expires within this many days.
    """

    trusted_ca_bundle: str | None = None
    key_type: Literal["RSA2048", "RSA4096", "ECDSAP256"] = "RSA2048"
    sip_tls_fqdns: dict[str, Fqdn] = {}
    lab_ca: str | None = None
    exchange_dir: str | None = None
    renew_within_days: Annotated[int, Field(ge=31, le=365)] = 60


class SecurityWizard(_Model):
    """Section "Management Node deployment and bootstrap configuration": the security
    wizard's answers the guide lets the site choose ("SIP listen ports and web session limits
    may be customized"); every other answer is the guide's."""

    sip_udp_port: Annotated[int, Field(ge=1024, le=65535)] = 5060
    sip_tcp_port: Annotated[int, Field(ge=1024, le=65535)] = 5060
    sip_tls_port: Annotated[int, Field(ge=1024, le=65535)] = 5061
    web_sessions_total: Annotated[int, Field(ge=1, le=10000)] = 100
    web_sessions_per_user: Annotated[int, Field(ge=1, le=10000)] = 10

    @model_validator(mode="after")
    def _distinct(self) -> SecurityWizard:
        if self.sip_tcp_port == self.sip_tls_port:
            raise ValueError("sip_tcp_port and sip_tls_port must differ")
        if self.web_sessions_per_user > self.web_sessions_total:
            raise ValueError("web_sessions_per_user cannot exceed web_sessions_total")
        return self


class Pexip(_Model):
    global_: Annotated[GlobalSettings, Field(alias="global")]
    security_wizard: SecurityWizard = SecurityWizard()
    network: NetworkServices
    snmp: Snmp
    ldap: Ldap
    locations: Locations = Locations()
    ipv6: Ipv6 = Ipv6()
    certificates: Certificates = Certificates()


class Attestation(_Model):
    """A named, dated statement for what no API can read (a BIOS password, "Force BIOS setup"
    used once): the scenario of that requirement is reported attested, never passed, and
    failed once the attestation has expired. Dates are UTC calendar days."""

    id: Annotated[str, Field(pattern=ID_PATTERN.pattern)]
    statement: Annotated[str, Field(min_length=1, max_length=2000)]
    by: Annotated[str, Field(min_length=1, max_length=200)]
    date: dt.date
    expires: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Attestation:
        if self.expires <= self.date:
            raise ValueError("expires must be after date")
        return self


class Waiver(_Model):
    """A site's accepted deviation from one requirement: ``reason`` approved by ``approver`` on
    ``date``; the requirement is reported "waived" (its scenarios still shown) until ``expires``,
    then "failed". Dates are UTC calendar days; the ID must be in the requirement catalogue."""

    id: Annotated[str, Field(pattern=ID_PATTERN.pattern)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    approver: Annotated[str, Field(min_length=1, max_length=200)]
    date: dt.date
    expires: dt.date

    @field_validator("id")
    @classmethod
    def _in_catalogue(cls, value: str) -> str:
        if value not in load_catalogue():
            raise ValueError(f"{value} is not a requirement of the catalogue")
        return value

    @field_validator("expires")
    @classmethod
    def _after_date(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        date = info.data.get("date")
        if date is not None and value <= date:
            raise ValueError(f"must be after date ({date.isoformat()})")
        return value


VlanId = Annotated[int, Field(ge=0, le=4095)]


class VsphereVms(_Model):
    """The Pexip VMs by deployment, as vCenter names them (Management Node first)."""

    primary: Annotated[list[str], Field(min_length=1)]
    contingency: list[str] = []


class Vsphere(_Model):
    """Sections "Securing the host environment", "Reserving VM resources" and "BIOS settings".

    ``disk_iops_limit``: the IOPS limit of each Pexip VM's disks (the guide: "the appropriate
    number of IOPs for the Virtual Machine"); ``datastore_iops_capacity``: what one host's
    datastore sustains, which the sum of the limits on a host must not exceed;
    ``reserved_vlans``: VLAN IDs the site's network reserves (the guide: VLAN IDs must not
    conflict with them).
    """

    vms: VsphereVms
    disk_iops_limit: Annotated[int, Field(ge=1, le=10_000_000)]
    datastore_iops_capacity: Annotated[int, Field(ge=1, le=100_000_000)]
    reserved_vlans: list[VlanId] = []


class BeyondTrust(_Model):
    """The BeyondTrust site ("BeyondTrust PRA SSL Certificates"): the hostname selected for the
    site (``site_hostname``), the file of the root certificates its clients trust
    (``trusted_ca_bundle``, PEM), and the Subject Name of the certificate request the deployer
    creates (``country``: two-letter ISO 3166 code; ``state``: the full name, not an
    abbreviation; ``city``, ``organization``, ``unit``)."""

    site_hostname: Hostname
    trusted_ca_bundle: Annotated[str, Field(min_length=1)]
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]
    state: Annotated[str, Field(max_length=128)] = ""
    city: Annotated[str, Field(max_length=128)] = ""
    organization: Annotated[str, Field(max_length=64)] = ""
    unit: Annotated[str, Field(max_length=64)] = ""


Seconds = Annotated[float, Field(gt=0, le=600)]


class Verification(_Model):
    """How verification sends its probes. Today's values suit loopback and a LAN; a real
    network with more latency may want longer timeouts.

    ``concurrency``: probes (and logins) in flight at once, across nodes, ports and scenarios;
    ``silence_timeout``: seconds a probe waits where no answer is the expected outcome (a
    dropped TCP connection, an SNMP request that must go unanswered): every such wait in a run
    happens at the same time, so a run waits about this long once;
    ``answer_timeout``: seconds a probe waits for an answer it expects (SNMP, SIP);
    ``connect_timeout``: seconds a TLS or HTTPS probe waits to connect and be answered, and
    an API client (Management Node, appliance, vCenter) waits for its TCP connection;
    ``request_deadline``: seconds one API request may take in all (connecting, the TLS
    handshake, the answer's headers and its whole body): a server that answers a byte at a time
    is cut off there;
    ``run_budget``: seconds a run (``pytest features/``, ``accord deploy``) may spend asking a
    site's systems: once spent, every further request fails at once, saying so;
    ``response_limit``: MiB an API answer may hold (a larger one is refused, not read).
    """

    concurrency: Annotated[int, Field(ge=1, le=4096)] = 64
    silence_timeout: Seconds = 1.5
    answer_timeout: Seconds = 3.0
    connect_timeout: Seconds = 5.0
    request_deadline: Seconds = 60.0
    run_budget: Annotated[float, Field(gt=0, le=86400)] = 3600.0
    response_limit: Annotated[int, Field(ge=1, le=1024)] = 64


class SiteInfo(_Model):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")]
    secrets_file: str | None = None


class SiteModel(_Model):
    site: SiteInfo
    systems: SiteSystems
    pexip: Pexip
    vsphere: Vsphere | None = None
    beyondtrust: BeyondTrust | None = None
    attestations: list[Attestation] = []
    waivers: list[Waiver] = []
    verification: Verification = Verification()

    @model_validator(mode="after")
    def _beyondtrust_both(self) -> SiteModel:
        if self.systems.beyondtrust is not None and self.beyondtrust is None:
            raise ValueError(
                "beyondtrust: missing ([systems.beyondtrust] names appliances: the site's "
                "hostname, trusted roots and certificate subject go in [beyondtrust])"
            )
        if self.beyondtrust is not None and self.systems.beyondtrust is None:
            raise ValueError(
                "systems.beyondtrust: missing ([beyondtrust] needs the appliances to verify)"
            )
        return self

    @field_validator("attestations")
    @classmethod
    def _one_each(cls, value: list[Attestation]) -> list[Attestation]:
        ids = [a.id for a in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"one attestation per requirement: {', '.join(twice)} given twice")
        return value

    @field_validator("waivers")
    @classmethod
    def _one_waiver_each(cls, value: list[Waiver]) -> list[Waiver]:
        ids = [w.id for w in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"one waiver per requirement: {', '.join(twice)} given twice")
        return value


@dataclass(frozen=True)
class Site:
    """A loaded, validated site file with its secrets resolver."""

    path: Path
    model: SiteModel
    stand_ins: bool = False  # a replayed site: every secret is its `stand_in`

    @property
    def name(self) -> str:
        return self.model.site.name

    @property
    def pexip(self) -> Pexip:
        return self.model.pexip

    @property
    def systems(self) -> SiteSystems:
        return self.model.systems

    @property
    def verification(self) -> Verification:
        return self.model.verification

    def resolve(self, ref: CredentialRef) -> Secret:
        """The secret a reference names; `SiteError` names the reference when it is missing.
        A replayed site (``stand_ins``) has no secrets: each is its `stand_in`."""
        if self.stand_ins:
            return Secret(stand_in(ref))
        if ref.env is not None:
            value = os.environ.get(ref.env)
            if value is None:
                raise SiteError(f"{self.path}: environment variable {ref.env} is not set")
            return Secret(value)
        secrets = _load_secrets(self.path, self.model.site.secrets_file)
        assert ref.secret is not None
        if ref.secret not in secrets:
            raise SiteError(f"{self.path}: secret {ref.secret!r} is not in the secrets file")
        return Secret(secrets[ref.secret])

    def file(self, relative: str | None) -> Path | None:
        """A path named in the site file, relative to the site file's folder."""
        if relative is None:
            return None
        return (self.path.parent / relative).resolve()

    def client_certificate(
        self, deployment: str, which: str = "administrator"
    ) -> tuple[Path, Path] | None:
        """The (certificate, key) files of one of a system's client certificates, or None when
        the site names none; `SiteError` when a file is missing or the key is readable by others
        than its owner."""
        system = getattr(self.systems.pexip, deployment)
        entry = getattr(system.client_certificates, which) if system is not None else None
        if entry is None:
            return None
        where = f"systems.pexip.{deployment}.client_certificates.{which}"
        certificate = Path(str(self.file(entry.certificate_file)))
        key = Path(str(self.file(entry.key_file)))
        for path in (certificate, key):
            if not path.is_file():
                raise SiteError(f"{self.path}: {where}: {path} does not exist")
        mode = stat.S_IMODE(key.stat().st_mode)
        if mode & 0o077:
            raise SiteError(
                f"{key}: {where}.key_file must be readable by its owner only (mode 0600), it is "
                f"{mode:04o}"
            )
        return certificate, key


def check_site(site: Site, *, files: bool = True) -> None:
    """Everything a run needs beside the site file, checked before any system is touched (by
    `accord deploy` and `pytest features/` alike): every secret resolves (the secrets file is
    there, owner-only, and holds it; the environment variable is set), and every file the
    site names is there (CA bundles, client certificates, their keys owner-only, the lab CA).
    `SiteError` lists every problem, one line each. A replayed site (stand-ins) has no secrets
    and its files are the recording's copies: only the files are checked. ``files=False``
    (a site the simulators stand in for: `accord sim` writes its systems, CA and client
    certificates) checks the secrets only."""
    problems: list[str] = []
    if not site.stand_ins:
        for ref in credential_refs(site.model):
            try:
                site.resolve(ref)
            except SiteError as exc:
                problems.append(str(exc))
    for where, relative in _named_files(site.model) if files else ():
        path = site.file(relative)
        if path is not None and not path.exists():
            problems.append(f"{site.path}: {where}: {path} does not exist")
    systems = site.systems.pexip
    for deployment in ("primary", "contingency", "scratch"):
        system = getattr(systems, deployment)
        if system is None or site.stand_ins or not files:
            continue
        for which in type(system.client_certificates).model_fields:
            try:
                site.client_certificate(deployment, which)
            except SiteError as exc:
                problems.append(str(exc))
    if problems:
        raise SiteError("\n".join(dict.fromkeys(problems)))


def _named_files(model: SiteModel) -> list[tuple[str, str | None]]:
    """(key path, file) of every CA bundle and folder the site file names."""
    named: list[tuple[str, str | None]] = []
    for deployment in ("primary", "contingency", "scratch"):
        system = getattr(model.systems.pexip, deployment)
        if system is not None:
            named.append((f"systems.pexip.{deployment}.ca_bundle", system.ca_bundle))
    if model.systems.vsphere is not None:
        named.append(("systems.vsphere.ca_bundle", model.systems.vsphere.ca_bundle))
    if model.systems.beyondtrust is not None:
        named.append(("systems.beyondtrust.ca_bundle", model.systems.beyondtrust.ca_bundle))
    certificates = model.pexip.certificates
    named.append(("pexip.certificates.trusted_ca_bundle", certificates.trusted_ca_bundle))
    named.append(("pexip.certificates.lab_ca", certificates.lab_ca))
    if model.beyondtrust is not None:
        named.append(("beyondtrust.trusted_ca_bundle", model.beyondtrust.trusted_ca_bundle))
    return named


def stand_in(ref: CredentialRef) -> str:
    """What a secret is replaced by in a recording, and what a replay gives it: a name that
    says which reference it stands for (`accord.recording`)."""
    return f"accord-recorded-{'env' if ref.env else 'secret'}-{ref.env or ref.secret}"


def credential_refs(value: object) -> list[CredentialRef]:
    """Every secret reference in a site model (or part of one), in order."""
    if isinstance(value, CredentialRef):
        return [value]
    if isinstance(value, BaseModel):
        fields = [getattr(value, name) for name in type(value).model_fields]
        return [r for v in fields for r in credential_refs(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in credential_refs(v)]
    if isinstance(value, list | tuple):
        return [r for v in value for r in credential_refs(v)]
    return []


def _load_secrets(site_path: Path, secrets_file: str | None) -> dict[str, str]:
    if secrets_file is None:
        raise SiteError(f"{site_path}: a {{ secret = ... }} reference needs site.secrets_file")
    path = (site_path.parent / secrets_file).resolve()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError as exc:
        raise SiteError(f"{site_path}: site.secrets_file: {path} does not exist") from exc
    if mode & 0o077:
        raise SiteError(
            f"{path}: secrets file must be readable by its owner only (mode 0600), it is {mode:04o}"
        )
    try:
        data = tomllib.loads(_read_text(path, "secrets file"))
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"{path}: not valid TOML: {exc}") from None
    bad = [key for key, value in data.items() if not isinstance(value, str)]
    if bad:
        raise SiteError(f"{path}: {bad[0]}: every secret must be a string")
    return data


def _format_errors(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "missing" + _missing_hint(loc)
        line = f"{path}: {loc}: {message}" if loc else f"{path}: {message}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _missing_hint(loc: str) -> str:
    hints = {
        "systems": " (the systems to verify: at least [systems.pexip.primary])",
        "systems.pexip": " (at least [systems.pexip.primary], the primary Management Node)",
        "systems.pexip.primary": " (the primary deployment's Management Node)",
    }
    return hints.get(loc, "")


def _reject_plain_secrets(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Plain strings where a credential reference belongs get their own clear message."""
    secret_keys = {
        "password",
        "key",
        "bind_password",
        "authentication_password",
        "privacy_password",
    }
    problems = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            problems += _reject_plain_secrets(value, path + ".")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    problems += _reject_plain_secrets(item, f"{path}.{index}.")
        elif key in secret_keys and isinstance(value, str):
            problems.append(
                f"{path}: plain secrets are not allowed in the site file; "
                f'use {{ env = "NAME" }} or {{ secret = "name" }}'
            )
    return problems


# Secret fields' values the site file gives in plain that are no secret: the factory SNMP
# communities (scrubbing "private" by value would blank "private key" in every report).
WELL_KNOWN = frozenset({"public", "private"})


def parse_site(text: str, path: Path) -> Site:
    """Validate site-file text; `SiteError` lists every problem, one line each."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"{path}: not valid TOML: {exc}") from None
    plain = _reject_plain_secrets(data)
    if plain:
        raise SiteError("\n".join(f"{path}: {line}" for line in plain))
    try:
        model = SiteModel.model_validate(data)
    except ValidationError as exc:
        raise SiteError(_format_errors(path, exc)) from None
    if model.pexip.snmp.community not in WELL_KNOWN:
        secrets.remember(model.pexip.snmp.community)
    return Site(path=path.resolve(), model=model)


def _read_text(path: Path, what: str) -> str:
    """A UTF-8 file's text; `SiteError` in one line when it cannot be read or is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SiteError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SiteError(
            f"{path}: the {what} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start})"
        ) from None


def load_site(path: str | Path, *, stand_ins: bool = False) -> Site:
    """Load and validate a site file; `SiteError` says what is wrong and where. With
    ``stand_ins`` (a recording's copy of a site) every secret resolves to its `stand_in`."""
    path = Path(path)
    site = parse_site(_read_text(path, "site file"), path)
    return replace(site, stand_ins=True) if stand_ins else site
