"""The factory-fresh state of a simulated deployment.

What a Management Node looks like after the installation wizard and the deployment of its
Conferencing Nodes, before any hardening: shipped defaults everywhere (so a fresh simulator is
NOT compliant with the Secure Mode guide), plus the wizard answers of a typical unhardened
install. Those answers are:

- incident reporting on (``global.error_reporting_enabled = true``) and deployment and usage
  statistics on (``global.enable_analytics = true``): the wizard's "Send deployment and usage
  statistics to Pexip" / "Enable incident reporting" answered *yes*;
- one DNS server (``<prefix>53``) and one NTP server (``pool.ntp.org``, no key), used by the
  Management Node and every location;
- the shipped "Read-only" and "Read-write" roles still holding "May view logs" and "May
  generate system snapshot" (the guide tells admins to remove them);
- every node with its own self-signed "temporary" TLS certificate (CN and SAN = the node's
  FQDN, 4096-bit RSA key, 2048-bit DH parameters, serverAuth + clientAuth; TLS-15) assigned to
  it, the Management Node's being ``tls_certificate/1/``; no custom trusted CA certificates,
  no CSRs. Keys come from a per-machine cache (``keycache``: nodes share a pool of four keys);
  the certificates are built once per process (``certificates.temporary_row``), so resets
  stay fast and a client's trust in them survives resets and clock moves. Their validity (10
  years from the day before the first build) is INFERRED.

Addresses are data only (documentation ranges by default); nothing ever contacts them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import string
import uuid
from dataclasses import dataclass

from simulator.pexip.certificates import node_fqdn, temporary_row
from simulator.pexip.fields import format_time
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import (
    AUTHENTICATION,
    DNS_SERVER,
    GLOBAL,
    LICENCE,
    MANAGEMENT_VM,
    NTP_SERVER,
    PERMISSION,
    ROLE,
    SYSTEM_LOCATION,
    TLS_CERTIFICATE,
    WORKER_VM,
)
from simulator.pexip.state import State

# (name, codename). Names are the admin UI's wording; codenames are INFERRED (Django style).
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("Is an administrator", "is_admin"),
    ("May use web interface", "can_use_web_interface"),
    ("May use API", "can_use_api"),
    ("May view logs", "can_view_logs"),
    ("May generate system snapshot", "can_generate_snapshot"),
    ("May view configuration", "view_configuration"),
    ("May change configuration", "change_configuration"),
    ("May view status", "view_status"),
    ("May manage conferences", "change_conference"),
)
READ_ONLY_EXCLUDES = ("May change configuration", "May manage conferences")

# INFERRED licence contents: every activated licence is a 10-port licence valid for a year.
LICENCE_PRODUCT = "pexip-infinity-port"
LICENCE_PORTS = 10
LICENCE_DAYS = 365


FIRST_CONFERENCING_HOST = 21  # Conferencing Node i (from 0) has host number 21 + i


@dataclass(frozen=True)
class Seed:
    """A factory-fresh deployment: domain, address range and how many of each thing.

    The nodes' network is ``<address_prefix>0/<network_bits>``: a /24 by default (room for 234
    Conferencing Nodes), down to a /20 for larger deployments (``address_prefix`` then names
    the network's first three octets, e.g. ``10.20.16.`` for ``10.20.16.0/20``).
    """

    domain: str = "pexip.example.com"
    address_prefix: str = "192.0.2."
    conferencing_nodes: int = 3
    locations: int = 2
    licences: int = 0
    network_bits: int = 24

    def __post_init__(self) -> None:
        if not self.domain or len(self.domain) > 192:
            raise ValueError("Seed.domain must be 1–192 characters")
        for count, hi in (
            (self.conferencing_nodes, 4000),
            (self.locations, 100),
            (self.licences, 1000),
        ):
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= hi:
                raise ValueError(f"Seed counts must be integers in 0..{hi}")
        if self.conferencing_nodes and not self.locations:
            raise ValueError("Seed: conferencing nodes need at least one location")
        if isinstance(self.network_bits, bool) or self.network_bits not in range(20, 25):
            raise ValueError("Seed.network_bits must be 20 to 24")
        try:
            ipaddress.IPv4Address(f"{self.address_prefix}254")
            network = ipaddress.IPv4Network(f"{self.address_prefix}0/{self.network_bits}")
        except ValueError:
            raise ValueError(
                "Seed.address_prefix must be the first three octets and a dot, of a network "
                "of network_bits"
            ) from None
        if FIRST_CONFERENCING_HOST + self.conferencing_nodes > network.num_addresses - 1:
            raise ValueError(
                f"Seed: {self.conferencing_nodes} Conferencing Nodes do not fit in {network}"
            )

    @property
    def network(self) -> ipaddress.IPv4Network:
        """The nodes' network."""
        return ipaddress.IPv4Network(f"{self.address_prefix}0/{self.network_bits}")

    def address(self, host: int) -> str:
        """The address of host number ``host`` of the network (``<prefix><host>`` in a /24)."""
        return str(self.network.network_address + host)


def location_name(index: int) -> str:
    """The name of location ``index``: Datacenter A, B, ... (numbers after Z)."""
    letters = string.ascii_uppercase
    return f"Datacenter {letters[index] if index < len(letters) else index + 1}"


def new_licence(entitlement_id: str, now: dt.datetime) -> dict[str, object]:
    """The stored row of a freshly activated licence (INFERRED contents, see constants)."""
    return {
        "entitlement_id": entitlement_id,
        "product_id": LICENCE_PRODUCT,
        "concurrent": LICENCE_PORTS,
        "status": "ACTIVATED",
        "start_date": format_time(now),
        "expiration_date": format_time(now + dt.timedelta(days=LICENCE_DAYS)),
    }


def hostnames(seed: Seed) -> list[str]:
    """The nodes' hostnames: the Management Node's, then each Conferencing Node's."""
    return ["pxmgr01", *(f"pxconf{i + 1:02d}" for i in range(seed.conferencing_nodes))]


def shipped_certificate(seed: Seed, index: int, now: dt.datetime) -> dict[str, object]:
    """The stored row of node ``index``'s shipped temporary certificate (0: the Management
    Node; the same for the life of the process)."""
    fqdn = node_fqdn({"hostname": hostnames(seed)[index], "domain": seed.domain})
    return temporary_row(fqdn, index, now)


def _row(rdef: ResourceDef, **values: object) -> dict[str, object]:
    row = rdef.default_row()
    unknown = set(values) - set(row)
    assert not unknown, f"seed sets unknown {rdef.name} fields {unknown}"
    row.update(values)
    return row


def build_state(seed: Seed, now: dt.datetime) -> State:
    """The factory-fresh state for ``seed`` at time ``now`` (deterministic but for dates)."""
    state = State.empty()
    add = {r.name: state.table(r).add for r in (GLOBAL, AUTHENTICATION, DNS_SERVER, NTP_SERVER)}
    add["global"](
        _row(
            GLOBAL,
            error_reporting_enabled=True,
            enable_analytics=True,
            deployment_uuid=str(uuid.uuid5(uuid.NAMESPACE_DNS, seed.domain)),
        )
    )
    add["authentication"](_row(AUTHENTICATION))
    dns = add["dns_server"](_row(DNS_SERVER, address=seed.address(53)))
    ntp = add["ntp_server"](_row(NTP_SERVER, address="pool.ntp.org"))

    names = hostnames(seed)
    certificates = [
        state.table(TLS_CERTIFICATE).add(shipped_certificate(seed, i, now))
        for i in range(len(names))
    ]
    state.table(MANAGEMENT_VM).add(
        _row(
            MANAGEMENT_VM,
            name="mgr01",
            hostname=names[0],
            tls_certificate=certificates[0],
            domain=seed.domain,
            address=seed.address(10),
            netmask=str(seed.network.netmask),
            gateway=seed.address(1),
            dns_servers=[dns],
            ntp_servers=[ntp],
            primary=True,
        )
    )
    locations = [
        state.table(SYSTEM_LOCATION).add(
            _row(SYSTEM_LOCATION, name=location_name(i), dns_servers=[dns], ntp_servers=[ntp])
        )
        for i in range(seed.locations)
    ]
    for i in range(seed.conferencing_nodes):
        state.table(WORKER_VM).add(
            _row(
                WORKER_VM,
                name=f"conf{i + 1:02d}",
                hostname=names[i + 1],
                tls_certificate=certificates[i + 1],
                domain=seed.domain,
                address=seed.address(FIRST_CONFERENCING_HOST + i),
                netmask=str(seed.network.netmask),
                gateway=seed.address(1),
                system_location=locations[i % len(locations)],
            )
        )

    permissions = {
        name: state.table(PERMISSION).add(_row(PERMISSION, name=name, codename=codename))
        for name, codename in PERMISSIONS
    }
    read_only = [k for name, k in permissions.items() if name not in READ_ONLY_EXCLUDES]
    state.table(ROLE).add(_row(ROLE, name="Read-only", permissions=read_only))
    state.table(ROLE).add(_row(ROLE, name="Read-write", permissions=list(permissions.values())))

    for i in range(seed.licences):
        fulfillment_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"licence-{i + 1}.{seed.domain}"))
        licence = _row(LICENCE, **new_licence(f"ENT-{i + 1:04d}", now))
        state.table(LICENCE).add(licence, key=fulfillment_id)
    return state
