"""The node network: real listeners for every node of a simulated deployment, on loopback.

``NodeNetwork.start()`` picks a random loopback subnet ``127.A.B.0`` (A, B in 2..254) of the
seed network's size (a /24 by default, up to a /20 for large deployments) that mirrors it: in a
/24, a node whose ``address`` is ``<prefix>N`` listens on ``127.A.B.N`` (Linux routes all of
127.0.0.0/8 to ``lo``; no root needed), so every node has its own address and ports above 1024
keep their real numbers. If any listener cannot be bound (address or port
in use), it tries another subnet, ``ATTEMPTS`` times in all, then raises ``OSError``. Per node:

- the primary Management Node: HTTPS on ``https_port`` (standing for 443) serving the API
  application (auth, HSTS, ``/_sim/``, request log). It stays at the address it started on for
  the simulator's life, whatever the model later says about its address (INFERRED: a real
  Management Node changes address through a reboot, which the simulator does not do); ``url``
  never moves.
- any other Management Node: HTTPS on ``https_port`` serving the same API application.
- every Conferencing Node: HTTPS on ``https_port`` (the Connect page, ``services``) and SIP on
  the security wizard's SIP UDP, TCP and TLS listen ports (5060, 5060, 5061 by default).
- every node while its system administrator account is enabled (security wizard): SSH on
  ``ssh_port`` (standing for 22).
- every node whose SNMP mode is not disabled: a real SNMP agent on UDP ``snmp_port`` (standing
  for 161), following the node's SNMP settings (``snmp``) and the SNMP-04 wire faults.

``port_map`` says which real port each stand-in port is for.

Every TLS listener serves the node's assigned certificate, chosen at each handshake, under the
node's TLS policy (``nodetls``: TLS 1.0, FIPS suites, client certificates); in FIPS mode it
reads each ClientHello first, to refuse the TLS 1.3 offers Python's ``ssl`` cannot
(``clienthello``). Packets to closed
ports are dropped when the node's wizard says so and the run can (``firewall``: root and
nftables; otherwise ``firewall.why_unavailable`` says why and closed ports reject).

Listeners follow the model at each ``sync()`` (the simulator calls it after every write
request, ``/_sim/`` included): created nodes get listeners, deleted nodes' listeners close, a
changed address re-binds the node, a changed wizard answer opens, closes or moves the one
service it concerns. A node whose address is outside the seed's /24 (or not an IPv4 address)
has no listener; nor has one whose address cannot be bound after start (e.g. two nodes sharing
an address): the next ``sync()`` tries again.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.core.serving import (
    Screen,
    Serving,
    bind_socket,
    close_all,
    https_server,
    kept_alive,
)
from simulator.pexip import clienthello, faults, wizard
from simulator.pexip.certificate_resources import CA_CERTIFICATE
from simulator.pexip.firewall import Firewall, OpenPorts
from simulator.pexip.models import PexipModel
from simulator.pexip.nodetls import PRIMARY, CertificateSync, NodeId, TlsPolicy, node_row
from simulator.pexip.resources import AUTHENTICATION, MANAGEMENT_VM, WORKER_VM
from simulator.pexip.services import (
    SipServer,
    SipUdpServer,
    SshServer,
    bind_udp,
    conferencing_web,
)
from simulator.pexip.snmp import DISABLED, AgentConfig, SnmpAgents
from simulator.pexip.state import State

ATTEMPTS = 5
_RNG = random.SystemRandom()  # picks the loopback subnet (tests may swap it)
HTTPS, SIP_TLS, SIP_TCP, SIP_UDP, SSH = "https", "sip-tls", "sip-tcp", "sip-udp", "ssh"
SNMP = "snmp"
UDP_SERVICES = frozenset({SIP_UDP, SNMP})
# sysDescr of each kind of node (INFERRED: Pexip does not document its agent's sysDescr).
SYSTEM_DESCRIPTION = {
    MANAGEMENT_VM.name: "Pexip Infinity Management Node",
    WORKER_VM.name: "Pexip Infinity Conferencing Node",
}


@dataclass(frozen=True)
class NodeView:
    """What the listeners need to know of one node, read from the model in one go."""

    address: str
    kind: str
    answers: dict[str, Any]
    snmp: AgentConfig
    client_cas: tuple[str, ...] = ()

    @property
    def policy(self) -> TlsPolicy:
        return TlsPolicy(
            tls10=bool(self.answers["tls10"]),
            fips=bool(self.answers["fips_mode"]),
            client_cas=self.client_cas,
        )


def node_uri(state: State, node: NodeId) -> str | None:
    rdef = MANAGEMENT_VM if node.kind == MANAGEMENT_VM.name else WORKER_VM
    if node.key is not None:
        return rdef.uri(node.key) if node.key in state.table(rdef).rows else None
    rows = state.table(rdef).rows
    return next((rdef.uri(k) for k, r in sorted(rows.items()) if r["primary"]), None)


def _client_cas(state: State) -> tuple[str, ...]:
    """The trusted CA list, when the Management Node requires client certificates."""
    auth = next(iter(state.table(AUTHENTICATION).rows.values()), {})
    if auth.get("client_certificate", "NO") == "NO":
        return ()
    cas = state.table(CA_CERTIFICATE).rows
    return tuple(cas[k]["certificate"] for k in sorted(cas))


def _snmp(state: State, kind: str, row: dict[str, Any], active: frozenset[str]) -> AgentConfig:
    """The SNMP agent a node's row asks for, with the SNMP-04 wire faults that are on."""
    return AgentConfig(
        mode=row["snmp_mode"],
        community=row["snmp_community"] or "",
        username=row["snmp_username"] or "",
        authentication_password=state.clear(row["snmp_authentication_password"]),
        privacy_password=state.clear(row["snmp_privacy_password"]),
        system_description=SYSTEM_DESCRIPTION[kind],
        system_name=".".join(p for p in (row["hostname"], row["domain"]) if p),
        contact=row["snmp_system_contact"] or "",
        location=row["snmp_system_location"] or "",
        also_v2c=faults.SNMP04_ANSWERS_V2C in active,
        also_md5_des=faults.SNMP04_ACCEPTS_MD5_DES in active,
    )


def _views(state: State, active: frozenset[str]) -> dict[NodeId, NodeView]:
    """Every node but the primary's key (``PRIMARY`` stands for it) with its view;
    ``active``: the faults that are on."""
    out: dict[NodeId, NodeView] = {}
    cas = _client_cas(state)
    for rdef in (MANAGEMENT_VM, WORKER_VM):
        for key, row in sorted(state.table(rdef).rows.items()):
            primary = rdef is MANAGEMENT_VM and row["primary"]
            node = PRIMARY if primary else NodeId(rdef.name, key)
            answers = wizard.effective(state.security_wizard, rdef.uri(key))
            out[node] = NodeView(
                row["address"],
                rdef.name,
                answers,
                _snmp(state, rdef.name, row, active),
                cas if rdef is MANAGEMENT_VM else (),
            )
    return out


def _primary_address(state: State) -> str:
    row = node_row(state, PRIMARY)
    return row["address"] if row else ""


# -- the network -------------------------------------------------------------------------


@dataclass
class _Bound:
    """The listeners of one node and where they are."""

    address: str  # the node's address in the model
    host: str  # the loopback address it listens on
    context: ssl.SSLContext  # the listening TLS context (its policy is kept up to date)
    policy: TlsPolicy
    services: dict[str, tuple[int, Serving]] = field(default_factory=dict)
    snmp: bool = False  # whether its SNMP agent runs (``NodeNetwork.snmp``) on ``snmp_port``

    def ports(self, snmp_port: int) -> dict[str, int]:
        """Its services and their ports, the SNMP agent included."""
        out = {name: port for name, (port, _) in self.services.items()}
        return out | {SNMP: snmp_port} if self.snmp else out


class NodeNetwork:
    """Every node's listeners on a loopback subnet that mirrors the seed's (see module doc)."""

    def __init__(
        self,
        model: PexipModel,
        api: Callable[..., Any],
        *,
        label: str,
        sync_delay: float = 0.0,
        https_port: int = 8443,
        ssh_port: int = 2222,
        snmp_port: int = 1161,
    ) -> None:
        self.model = model
        self.api = api
        self.label = label
        self.https_port = https_port
        self.ssh_port = ssh_port
        self.snmp_port = snmp_port
        self.certificates = CertificateSync(model, sync_delay)
        self.firewall = Firewall()
        self.snmp = SnmpAgents()
        self.seed_network = model.seed.network
        self.subnet: ipaddress.IPv4Network | None = None
        self.api_host = ""
        self._bound: dict[NodeId, _Bound] = {}
        self._lock = threading.Lock()

    @property
    def address_map(self) -> dict[str, str]:
        """``{"<seed network>": "<loopback subnet>"}`` (empty before ``start``)."""
        return {str(self.seed_network): str(self.subnet)} if self.subnet else {}

    @property
    def port_map(self) -> dict[int, int]:
        """The real ports of the stand-in ones: ``{443: https_port, 22: ssh_port, 161:
        snmp_port}``; SIP keeps its real port numbers."""
        return {443: self.https_port, 22: self.ssh_port, 161: self.snmp_port}

    def loopback(self, address: str) -> str | None:
        """The loopback address of a node ``address``, or None outside the seed's network."""
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            return None
        if self.subnet is None or ip not in self.seed_network:
            return None
        offset = int(ip) - int(self.seed_network.network_address)
        return str(self.subnet.network_address + offset)

    def start(self) -> None:
        """Bind every node's listeners on a random free loopback subnet; raise ``OSError``
        (one line) if ``ATTEMPTS`` subnets all fail."""
        primary_address = self.model.read_state(_primary_address)
        error: OSError | None = None
        for _ in range(ATTEMPTS):
            bits = self.seed_network.prefixlen
            self.subnet = ipaddress.IPv4Network(
                f"127.{_RNG.randint(2, 254)}.{_RNG.randint(2, 254)}.0/{bits}", strict=False
            )
            host = self.loopback(primary_address)
            if host is None:
                raise OSError(
                    f"simulator {self.label!r}: the primary Management Node's address "
                    f"{primary_address!r} is not in the seed's network {self.seed_network}"
                )
            try:
                with self._lock:
                    self.api_host = host
                    self._sync_locked(strict=True)
                return
            except OSError as exc:
                error = exc
                self.close()
        raise OSError(
            f"simulator {self.label!r}: cannot bind its nodes' listeners on {ATTEMPTS} loopback "
            f"subnets (last {self.subnet}: {error})"
        )

    def sync(self) -> None:
        """Make the listeners match the model's nodes (created, deleted, re-addressed) and
        each node's security wizard answers."""
        with self._lock:
            if self.subnet is not None:
                self._sync_locked(strict=False)

    def _wanted(self, node: NodeId, view: NodeView) -> dict[str, int]:
        """The services ``node`` listens with, and their ports."""
        answers = view.answers
        wanted = {HTTPS: self.https_port}
        if view.kind == WORKER_VM.name:
            wanted[SIP_TLS] = answers["sip_tls_port"]
            wanted[SIP_TCP] = answers["sip_tcp_port"]
            wanted[SIP_UDP] = answers["sip_udp_port"]
        if not answers["disable_system_administrator"]:
            wanted[SSH] = self.ssh_port
        return wanted

    def _sync_locked(self, *, strict: bool) -> None:
        active = self.model.faults.current()
        views = self.model.read_state(lambda state: _views(state, active))
        gone = [
            n
            for n, b in self._bound.items()
            if n != PRIMARY and (n not in views or views[n].address != b.address)
        ]
        for node in gone:
            self._unbind(node)
        for node, view in views.items():
            host = self.api_host if node == PRIMARY else self.loopback(view.address)
            if host is None:
                continue
            try:
                self._follow(node, view, host)
            except OSError:
                if strict:
                    raise
        self.certificates.observe(self._bound)
        self._snmp_agents(views)
        self._firewall(views)

    def _follow(self, node: NodeId, view: NodeView, host: str) -> None:
        """Bind, re-bind or close ``node``'s services as ``view`` says."""
        bound = self._bound.get(node)
        if bound is None:
            context = self.certificates.server_context(node, self._policy_of(node))
            bound = self._bound[node] = _Bound(view.address, host, context, view.policy)
            bound.policy.apply(context)
        elif bound.policy != view.policy:
            bound.policy = view.policy
            bound.policy.apply(bound.context)
            if HTTPS in bound.services:  # the web server reloads (see `KeptAlive`)
                kept_alive(bound.services[HTTPS][1].server).renew()
        wanted = self._wanted(node, view)
        stale = [
            name
            for name, (port, _) in bound.services.items()
            if wanted.get(name) != port and not (node == PRIMARY and name == HTTPS)
        ]
        close_all([bound.services.pop(name)[1] for name in stale])
        for name, port in wanted.items():
            if name not in bound.services:
                bound.services[name] = (port, self._serve(node, view, bound, name, port))

    def _policy_of(self, node: NodeId) -> Callable[[], TlsPolicy]:
        def policy() -> TlsPolicy:
            bound = self._bound.get(node)
            return bound.policy if bound is not None else TlsPolicy()

        return policy

    def _serve(self, node: NodeId, view: NodeView, bound: _Bound, name: str, port: int) -> Serving:
        label = f"pexip-sim-{self.label}-{node.kind}-{node.key or 'primary'}-{name}"
        if name == SIP_UDP:
            return Serving(SipUdpServer(bind_udp(bound.host, port)), label)
        sock = bind_socket(bound.host, port)
        server: socketserver.BaseServer
        if name == HTTPS:
            app = self.api if view.kind == MANAGEMENT_VM.name else conferencing_web(self.model)
            server = https_server(sock, app, bound.context, self._screen(node))
        elif name == SSH:
            server = SshServer(sock)
        elif name == SIP_TLS:
            server = SipServer(sock, bound.context, self._screen(node))
        else:
            server = SipServer(sock, None)
        return Serving(server, label)

    def _screen(self, node: NodeId) -> Screen:
        """What ``node``'s TLS listeners do before each handshake: in FIPS mode, refuse a TLS
        1.3 offer OpenSSL would answer with ChaCha20-Poly1305 (``TlsPolicy.refuses``), unless
        the SECW-01 fault is on. Other nodes' connections are not looked at."""
        policy = self._policy_of(node)

        def screen(sock: socket.socket) -> bool:
            now = policy()
            if not now.fips or faults.SECW01_FIPS_ACCEPTS_TLS13_CHACHA20 in self.model.faults:
                return True
            return clienthello.screened(sock, now.refuses)

        return screen

    def _unbind(self, node: NodeId) -> None:
        bound = self._bound.pop(node)
        close_all([serving for _, serving in bound.services.values()])
        self.certificates.forget(node)

    def _snmp_agents(self, views: dict[NodeId, NodeView]) -> None:
        """Start, restart or stop each bound node's SNMP agent as its settings say; a node's
        agent that cannot start is logged (``SnmpAgents.apply``) and tried again next time."""
        wanted = {
            node: (bound.host, self.snmp_port, views[node].snmp)
            for node, bound in self._bound.items()
            if node in views
        }
        self.snmp.apply(wanted)
        running = self.snmp.bound()
        for node, bound in self._bound.items():
            bound.snmp = node in running and views[node].snmp.mode != DISABLED

    def _firewall(self, views: dict[NodeId, NodeView]) -> None:
        dropping: dict[str, OpenPorts] = {}
        for node, bound in self._bound.items():
            view = views.get(node)
            if view is None or not view.answers["drop_closed_port_packets"]:
                continue
            ports = bound.ports(self.snmp_port)
            tcp = {p for n, p in ports.items() if n not in UDP_SERVICES}
            udp = {p for n, p in ports.items() if n in UDP_SERVICES}
            dropping[bound.host] = OpenPorts(frozenset(tcp), frozenset(udp))
        self.firewall.apply(dropping)

    def hosts(self) -> dict[NodeId, str]:
        """Where each node with listeners listens (``PRIMARY`` is the API's node)."""
        with self._lock:
            return {node: bound.host for node, bound in self._bound.items()}

    def ports(self, node: NodeId) -> dict[str, int]:
        """The services ``node`` listens with now, and their ports."""
        with self._lock:
            bound = self._bound.get(node)
            return bound.ports(self.snmp_port) if bound else {}

    def close(self) -> None:
        """Close every listener and delete the firewall rules (idempotent)."""
        with self._lock:
            bound, self._bound = self._bound, {}
        close_all([s for b in bound.values() for _, s in b.services.values()])
        for node in bound:
            self.certificates.forget(node)
        self.snmp.close()
        self.firewall.close()
