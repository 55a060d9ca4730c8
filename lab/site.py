"""The lab site: a complete site file (and its secrets file) that reaches running simulators.

`accord sim --write-site DIR` writes ``DIR/site.toml`` and ``DIR/secrets.toml`` (mode 0600).
With ``--site FILE`` the site's own values and secrets are kept and only the systems (URLs, CA
bundles, address maps) and the certificate authority are replaced: the lab CA in ``DIR/lab-ca``
signs the deployer's CSRs. Without it the lab values below stand in for what the guide leaves to
the site, and every secret is freshly generated.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets as random_secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from accord import labca
from accord.labca import LabCA
from accord.site import CredentialRef, Ldap, SecurityWizard, Site

SITE_FILE = "site.toml"
SECRETS_FILE = "secrets.toml"
LAB_CA = "lab-ca"


def _new_secret() -> str:
    return random_secrets.token_urlsafe(18)


@dataclass(frozen=True)
class LabShape:
    """How big the lab's primary deployment is: its Conferencing Nodes and locations
    (``accord sim --nodes N --locations M``; the lab's own is 3 over 2)."""

    nodes: int = 3
    locations: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.nodes <= 4000:
            raise ValueError(f"--nodes must be 1 to 4000, not {self.nodes}")
        if not 1 <= self.locations <= min(100, self.nodes):
            raise ValueError(
                f"--locations must be 1 to 100 and at most --nodes, not {self.locations}"
            )

    @property
    def conferencing_names(self) -> list[str]:
        """The Conferencing Nodes' names in the API: conf01, conf02, ..."""
        return [f"conf{i:02d}" for i in range(1, self.nodes + 1)]


def lab_values(shape: LabShape = LabShape()) -> dict[str, Any]:
    """Site values for a lab: documentation addresses, and the guide's values elsewhere."""
    ipv6 = {"mgr01": {"address": "2001:db8::10", "gateway": "2001:db8::1"}}
    for number, name in enumerate(shape.conferencing_names, 21):
        ipv6[name] = {"address": f"2001:db8::{number}", "gateway": "2001:db8::1"}
    return {
        "global": {
            "protocols": ["sip"],
            "management_dscp": 16,
            "signalling_ports": {"start": 33000, "end": 39999},
            "media_ports": {"start": 40000, "end": 49999},
            "ocsp_responder_url": "http://ocsp.lab.example/",
            "login_banner": "Authorised use only. Activity is monitored and recorded.",
            "session_timeout_minutes": 10,
        },
        "network": {
            "dns_servers": ["192.0.2.201", "192.0.2.202"],
            "ntp_servers": [
                {"address": "ntp1.lab.example", "key_id": 1, "key": {"secret": "ntp_key_1"}},
                {"address": "ntp2.lab.example", "key_id": 2, "key": {"secret": "ntp_key_2"}},
            ],
            "syslog_servers": [{"address": "syslog.lab.example", "port": 6514, "transport": "tls"}],
        },
        "snmp": {
            "username": "accord-nms",
            "authentication_password": {"secret": "snmp_authentication_password"},
            "privacy_password": {"secret": "snmp_privacy_password"},
            "community": "accord-lab",
        },
        "ldap": {
            "server": "ldap.lab.example",
            "base_dn": "dc=lab,dc=example",
            # A DN: the lab directory is OpenLDAP, which binds by DN.
            "bind_username": "cn=svc-pexip,ou=services,dc=lab,dc=example",
            "bind_password": {"secret": "ldap_bind_password"},
            "client_certificate": "CN",
            "role_mappings": [
                {
                    "name": "Pexip auditors",
                    "group_dn": "cn=pexip-auditors,ou=groups,dc=lab,dc=example",
                    "roles": ["Auditor"],
                },
                {
                    "name": "Pexip operators",
                    "group_dn": "cn=pexip-operators,ou=groups,dc=lab,dc=example",
                    "roles": ["Read-only"],
                },
                {
                    "name": "Pexip administrators",
                    "group_dn": "cn=pexip-admins,ou=groups,dc=lab,dc=example",
                    "roles": ["Read-write"],
                },
            ],
        },
        "locations": {"media_dscp": 51, "signalling_dscp": 40, "mtu": 1400},
        "ipv6": {"enabled": True, "nodes": ipv6},
    }


# The lab's BeyondTrust site: name -> (hostname, role).
LAB_APPLIANCES: dict[str, tuple[str, str]] = {
    "pra1": ("pra1.lab.example", "primary"),
    "pra2": ("pra2.lab.example", "backup"),
    "atlas1": ("atlas1.lab.example", "traffic_node"),
}


def lab_beyondtrust() -> dict[str, Any]:
    """The lab's BeyondTrust site values (``trusted_ca_bundle`` is set by ``LabSite.prepare``:
    the lab CA's root)."""
    return {
        "site_hostname": "access.lab.example",
        "country": "US",
        "state": "Mississippi",
        "city": "Jackson",
        "organization": "Accord Lab",
        "unit": "Remote Access",
    }


# The scratch appliance's name and hostname when the site names none (role "scratch").
SCRATCH_APPLIANCE = ("accord-scratch", "accord-scratch.lab.example")


def beyondtrust_appliances(site: Site | None) -> dict[str, tuple[str, str]]:
    """The BeyondTrust appliances to simulate, name -> (hostname, role): the site's (none when
    it names none), or the lab's; plus a scratch appliance (role ``scratch``) for the guide's
    actions, the site's or ``SCRATCH_APPLIANCE``."""
    if site is None:
        return {**LAB_APPLIANCES, SCRATCH_APPLIANCE[0]: (SCRATCH_APPLIANCE[1], "scratch")}
    system = site.systems.beyondtrust
    if system is None:
        return {}
    found = {name: (a.hostname, str(a.role)) for name, a in system.appliances.items()}
    scratch = system.scratch
    name, hostname = (scratch.name, scratch.hostname) if scratch else SCRATCH_APPLIANCE
    return {**found, name: (hostname, "scratch")}


def beyondtrust_login(site: Site | None) -> tuple[str, str]:
    """(user name, password) the simulated appliances' API accepts: the site's, or new ones."""
    system = site.systems.beyondtrust if site is not None else None
    if system is not None and system.password is not None:
        assert site is not None
        return system.username, site.resolve(system.password).reveal()
    return (system.username if system is not None else "admin"), _new_secret()


def _inline_secrets(value: Any, site: Site | None, found: dict[str, str], path: str) -> Any:
    """Replace every credential reference by ``{secret = name}``, collecting the values."""
    if isinstance(value, dict):
        if set(value) <= {"env", "secret"} and value:
            if site is None:
                name = value.get("secret") or path
                found.setdefault(name, _new_secret())
            else:
                name = path
                found[name] = site.resolve(CredentialRef.model_validate(value)).reveal()
            return {"secret": name}
        return {
            k: _inline_secrets(v, site, found, f"{path}.{k}" if path else k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_inline_secrets(v, site, found, f"{path}.{i}") for i, v in enumerate(value)]
    return value


def site_document(
    site: Site | None, shape: LabShape = LabShape()
) -> tuple[dict[str, Any], dict[str, str]]:
    """The site's values (or the lab's, of ``shape``) with secrets moved to a secrets
    mapping."""
    found: dict[str, str] = {}
    if site is None:
        values = lab_values(shape)
        name = "lab"
        attestations = lab_attestations()
        waivers: list[dict[str, Any]] = []
        layer: dict[str, Any] | None = lab_vsphere(shape)
        beyondtrust: dict[str, Any] | None = lab_beyondtrust()
    else:
        values = site.model.pexip.model_dump(by_alias=True, exclude_none=True)
        name = site.name
        attestations = [a.model_dump() for a in site.model.attestations]
        waivers = [w.model_dump() for w in site.model.waivers]
        layer = site.model.vsphere.model_dump() if site.model.vsphere else None
        bt = site.model.beyondtrust
        beyondtrust = bt.model_dump() if bt is not None else None
    document: dict[str, Any] = {
        "site": {"name": name, "secrets_file": SECRETS_FILE},
        "pexip": _inline_secrets(values, site, found, "pexip"),
    }
    if layer is not None:
        document["vsphere"] = layer
    if beyondtrust is not None:
        document["beyondtrust"] = beyondtrust
    if attestations:
        document["attestations"] = attestations
    if waivers:
        document["waivers"] = waivers
    return document, found


def lab_vsphere(shape: LabShape = LabShape()) -> dict[str, Any]:
    """The lab's Pexip VMs in vCenter and the guide's VMware values the site chooses."""
    return {
        "vms": {
            "primary": ["pexip-mgr01", *(f"pexip-{n}" for n in shape.conferencing_names)],
            "contingency": ["pexip-dr-mgr01", "pexip-dr-conf01"],
        },
        "disk_iops_limit": 1000,
        "datastore_iops_capacity": 20000,
        "reserved_vlans": [1, 1002, 1003, 1004, 1005],
    }


def lab_attestations() -> list[dict[str, Any]]:
    """The lab's attestations of what no API can read, dated yesterday, valid for a year."""
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    statements = {
        "HOST-03": "Every ESXi host running a Pexip VM is hardened to the VMware ESXi STIG.",
        "BIOS-02": '"Force BIOS setup" was used once on every Pexip VM to reach the BIOS.',
        "BIOS-03": "A BIOS supervisor password is set on every Pexip VM.",
        "SECW-02": "The security wizard disabled the system administrator account: no console "
        "login is possible on any node.",
        "SECW-03": 'The security wizard was answered "Accept ICMPv6 redirects": NO.',
        "SECW-05": 'The security wizard was answered "Accept multicast ICMPv6 echo requests": NO.',
        "SECW-06": "The security wizard was answered "
        '"Enable IPv6 Duplicate Address Detection": NO.',
        "SECW-11": 'The security wizard was answered "Enable Anonymous DH for outbound SIP/TLS": '
        "NO.",
        "CONF-01": "The security wizard was completed on the Management Node's console before "
        "any Conferencing Node was deployed.",
        "BT-13": "Before the BeyondTrust appliances' certificate from another certificate "
        "authority became the default, the new root certificate and the new certificate were "
        "sent to BeyondTrust Technical Support, and the software update built with them was "
        "received and installed.",
    }
    return [
        {
            "id": requirement,
            "statement": statement,
            "by": "Accord lab (simulated)",
            "date": day,
            "expires": day + dt.timedelta(days=365),
        }
        for requirement, statement in statements.items()
    ]


def vcenter_password(site: Site | None) -> str:
    """The password the simulated vCenter accepts: the site's, or a new one."""
    if site is not None and site.systems.vsphere is not None:
        return site.resolve(site.systems.vsphere.password).reveal()
    return _new_secret()


def admin_password(site: Site | None, system: str) -> str:
    """The password a simulated Management Node accepts: the site's, or a new one."""
    if site is not None:
        systems = site.systems.pexip
        named = getattr(systems, system)
        if named is not None:
            return site.resolve(named.password).reveal()
    return _new_secret()


@dataclass(frozen=True)
class SimSystem:
    """How the site file reaches one simulated Management Node."""

    url: str
    username: str
    password: str
    ca_file: Path
    server_name: str | None = None
    address_map: dict[str, str] = field(default_factory=dict)
    port_map: dict[int, int] = field(default_factory=dict)
    # Requirement ID -> why this simulator cannot show it (e.g. no root for dropped packets).
    not_observable: dict[str, str] = field(default_factory=dict)
    # What the deployment has (the site file declares it: `accord.inventory`); None: nothing.
    nodes: list[str] | None = None
    locations: list[str] | None = None


@dataclass
class LabSite:
    """The lab site file being prepared: its document, its secrets and the lab CA (in
    ``directory/lab-ca``), which signs the deployer's CSRs and the lab's client certificates."""

    directory: Path
    document: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)
    ca: LabCA

    @classmethod
    def prepare(cls, directory: Path, site: Site | None, shape: LabShape = LabShape()) -> LabSite:
        """The site's values (or the lab's, of ``shape``) and a new lab CA, which the site file
        names."""
        document, secret_values = site_document(site, shape)
        directory.mkdir(parents=True, exist_ok=True)
        ca = LabCA.create(directory / LAB_CA)
        section = document["pexip"].setdefault("certificates", {})
        section.pop("exchange_dir", None)
        section["lab_ca"] = LAB_CA
        section["trusted_ca_bundle"] = f"{LAB_CA}/{labca.TRUSTED}"
        if "beyondtrust" in document:  # the lab CA signs the appliances' certificate
            document["beyondtrust"]["trusted_ca_bundle"] = f"{LAB_CA}/{labca.ROOT}"
        return cls(directory, document, secret_values, ca)

    @property
    def session_users_needed(self) -> int:
        """LDAP users the session limits need besides the local account (SECW-08)."""
        wizard = SecurityWizard.model_validate(self.document["pexip"].get("security_wizard", {}))
        return -(-wizard.web_sessions_total // wizard.web_sessions_per_user)

    @property
    def ldap(self) -> Ldap:
        """The site's LDAP section."""
        return Ldap.model_validate(self.document["pexip"]["ldap"])

    def secret(self, ref: CredentialRef) -> str:
        """A ``{secret = name}`` reference's value (the lab site only has those)."""
        assert ref.secret is not None
        return self.secrets[ref.secret]


@dataclass(frozen=True)
class SimVcenter:
    """How the site file reaches the simulated vCenter (vcsim)."""

    url: str
    username: str
    password: str
    ca_file: Path


@dataclass(frozen=True)
class SimBeyondTrust:
    """How the site file reaches the simulated BeyondTrust appliances: the simulator's
    certificate API (Accord's own; a real appliance has none) and each appliance's TLS
    listener, ``name -> (hostname, role, listener host, listener port)`` (role ``scratch``: the
    appliance for the guide's actions)."""

    url: str
    username: str
    password: str
    ca_file: Path
    appliances: dict[str, tuple[str, str, str, int]]


def write_site(
    lab: LabSite,
    systems: dict[str, SimSystem],
    vcenter: SimVcenter | None = None,
    client_certificates: dict[str, dict[str, str]] | None = None,
    session_users: dict[str, str] | None = None,
    extra_secrets: dict[str, str] | None = None,
    beyondtrust: SimBeyondTrust | None = None,
) -> Path:
    """Write ``site.toml`` and ``secrets.toml`` (0600) into the lab's folder, naming ``systems``.

    ``systems`` maps "primary"/"contingency"/"scratch" to how each is reached. Each system's CA
    bundle trusts its shipped Management Node certificate and the lab root, which signs the
    certificates the deployer assigns. ``client_certificates`` (``ClientCertificates`` field →
    {"certificate_file", "key_file"} paths relative to the folder) are named for every system;
    ``session_users`` (user name → password, LDAP users) for the scratch one.
    ``extra_secrets`` go into the secrets file without the site file naming them.
    ``beyondtrust``: the simulated appliances (``[systems.beyondtrust]``), reached on their
    loopback listeners.
    """
    directory, document, secret_values = lab.directory, lab.document, lab.secrets
    lab_root = lab.ca.root_pem
    document["systems"] = {"pexip": {}}
    for role, system in systems.items():
        key = f"pexip_{role}_password"
        secret_values[key] = system.password
        bundle = directory / f"pexip-{role}-trust.pem"
        bundle.write_text(system.ca_file.read_text() + lab_root)
        entry: dict[str, Any] = {
            "url": system.url,
            "ca_bundle": os.path.relpath(bundle, directory),
            "username": system.username,
            "password": {"secret": key},
        }
        if system.server_name:
            entry["tls_server_name"] = system.server_name
        if system.address_map:
            entry["address_map"] = dict(system.address_map)
        if system.port_map:
            entry["port_map"] = {str(k): v for k, v in system.port_map.items()}
        entry["console"] = "simulator"
        if client_certificates:
            entry["client_certificates"] = client_certificates
        if role == "scratch" and session_users:
            entry["session_users"] = []
            for number, (username, password) in enumerate(sorted(session_users.items()), 1):
                key = f"pexip_scratch_session_user_{number}"
                secret_values[key] = password
                entry["session_users"].append({"username": username, "password": {"secret": key}})
        if system.not_observable:
            entry["not_observable"] = dict(system.not_observable)
        if system.nodes is not None:
            entry["nodes"] = list(system.nodes)
        if system.locations is not None:
            entry["locations"] = list(system.locations)
        document["systems"]["pexip"][role] = entry
    if vcenter is not None:
        secret_values["vsphere_password"] = vcenter.password
        document["systems"]["vsphere"] = {
            "url": vcenter.url,
            "ca_bundle": os.path.relpath(vcenter.ca_file, directory),
            "username": vcenter.username,
            "password": {"secret": "vsphere_password"},
        }
    secret_values.update(extra_secrets or {})
    if beyondtrust is None:
        document.pop("beyondtrust", None)  # no appliances to go with the site's values
    else:
        secret_values["beyondtrust_password"] = beyondtrust.password
        document["systems"]["beyondtrust"] = {
            "api_url": beyondtrust.url,
            "ca_bundle": os.path.relpath(beyondtrust.ca_file, directory),
            "username": beyondtrust.username,
            "password": {"secret": "beyondtrust_password"},
            "appliances": {
                name: {"hostname": hostname, "role": role, "address": host, "port": port}
                for name, (hostname, role, host, port) in beyondtrust.appliances.items()
                if role != "scratch"
            },
        }
        for name, (hostname, role, host, port) in beyondtrust.appliances.items():
            if role == "scratch":
                document["systems"]["beyondtrust"]["scratch"] = {
                    "name": name,
                    "hostname": hostname,
                    "address": host,
                    "port": port,
                }
    labca.write_private(directory / SECRETS_FILE, tomli_w.dumps(secret_values))
    site_path = directory / SITE_FILE
    with site_path.open("wb") as handle:
        tomli_w.dump(document, handle)
    return site_path
