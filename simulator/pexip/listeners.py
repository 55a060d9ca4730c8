"""The node network: real TLS listeners for every node of a simulated deployment, on loopback.

``NodeNetwork.start()`` picks a random loopback subnet ``127.A.B.0/24`` (A, B in 2..254) that
mirrors the seed's /24: a node whose ``address`` is ``<prefix>N`` listens on ``127.A.B.N``
(Linux routes all of 127.0.0.0/8 to ``lo``; no root needed). If any listener cannot be bound
(address or port in use), it tries another subnet, ``ATTEMPTS`` times in all, then raises
``OSError``. Per node:

- the primary Management Node: HTTPS on ``https_port`` serving the API application (auth,
  HSTS, ``/_sim/``, request log). It stays at the address it started on for the simulator's
  life, whatever the model later says about its address (INFERRED: a real Management Node
  changes address through a reboot, which the simulator does not do); ``url`` never moves.
- any other Management Node: HTTPS on ``https_port`` serving the same API application.
- every Conferencing Node: HTTPS on ``https_port`` (``GET /`` → a small "Pexip Infinity
  Connect" page, other paths 404, every response with HSTS) and SIP over TLS on
  ``sip_tls_port`` (one request per connection: ``OPTIONS`` → ``200 OK``, anything else
  ``405 Method Not Allowed``; see ``sip_response``).

Every listener serves the node's assigned certificate, chosen at each handshake (``nodetls``).

Listeners follow the model at each ``sync()`` (the simulator calls it after every write
request): created nodes get listeners, deleted nodes' listeners close, a changed address
re-binds. A node whose address is outside the seed's /24 (or not an IPv4 address) has no
listener; nor has one whose address cannot be bound after start (e.g. two nodes sharing an
address): the next ``sync()`` tries again.
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

from werkzeug.wrappers import Request, Response

from simulator.pexip import faults
from simulator.pexip.models import PexipModel
from simulator.pexip.nodetls import PRIMARY, CertificateSync, NodeId
from simulator.pexip.resources import MANAGEMENT_VM, WORKER_VM
from simulator.pexip.state import State
from simulator.pexip.web import HSTS, Serving, bind_socket, close_all, https_server

ATTEMPTS = 5
_RNG = random.SystemRandom()  # picks the loopback subnet (tests may swap it)
SIP_TIMEOUT = 10.0  # seconds a SIP client has for the handshake and its request
SIP_MAX_HEAD = 16384  # bytes of request line and headers
SIP_ALLOW = "OPTIONS"
WEB_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Pexip Infinity Connect</title>'
    "</head><body><h1>Pexip Infinity Connect</h1></body></html>\n"
)
# Compact header forms (RFC 3261 §7.3.3) of the headers a response echoes.
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id"}
_ECHOED = ("via", "from", "to", "call-id", "cseq")
_NAMES = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}


# -- Conferencing Node web ---------------------------------------------------------------


def conferencing_web(model: PexipModel) -> Callable[..., Any]:
    """A Conferencing Node's web service: ``GET /`` → the Connect page, else 404 (or 405 for
    another method on ``/``); HSTS on every response (unless the TLS-16 fault is on)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path != "/":
            response = Response("<h1>Not Found</h1>\n", status=404, mimetype="text/html")
        elif request.method not in ("GET", "HEAD"):
            response = Response("<h1>Method Not Allowed</h1>\n", status=405, mimetype="text/html")
            response.headers["Allow"] = "GET, HEAD"
        else:
            response = Response(WEB_PAGE, status=200, mimetype="text/html")
        if not model.fault(faults.TLS16_NO_HSTS_ON_NODES):
            response.headers["Strict-Transport-Security"] = HSTS
        return response(environ, start_response)

    return app


# -- SIP over TLS ------------------------------------------------------------------------


def sip_response(head: bytes) -> bytes:
    """The answer to one SIP request (its request line and headers).

    ``OPTIONS`` → ``SIP/2.0 200 OK``; another method → ``405 Method Not Allowed`` with
    ``Allow: OPTIONS``; a request without Via, From, To, Call-ID and CSeq, or not a SIP/2.0
    request line → ``400 Bad Request``. Each response echoes the request's Via (all, in
    order), From, To, Call-ID and CSeq, adds a ``tag`` to To when it has none (RFC 3261
    §8.2.6.2; the tag is INFERRED random) and ends with ``Content-Length: 0``.
    """
    lines = head.decode("utf-8", "replace").split("\r\n")
    parts = lines[0].split(" ")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    if len(parts) != 3 or parts[2] != "SIP/2.0" or any(h not in headers for h in _ECHOED):
        status = "400 Bad Request"
    elif parts[0] == "OPTIONS":
        status = "200 OK"
    else:
        status = "405 Method Not Allowed"
    out = [f"SIP/2.0 {status}"]
    for name in _ECHOED:
        for value in headers.get(name, []) if name == "via" else headers.get(name, [])[:1]:
            if name == "to" and ";tag=" not in value.replace(" ", "").lower():
                value = f"{value};tag={random.getrandbits(32):08x}"
            out.append(f"{_NAMES[name]}: {value}")
    if status.startswith("405"):
        out.append(f"Allow: {SIP_ALLOW}")
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode("utf-8")


def _read_head(tls: ssl.SSLSocket) -> bytes | None:
    """The request line and headers (without the blank line), or None if the client closes
    first or sends more than ``SIP_MAX_HEAD`` bytes of them."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > SIP_MAX_HEAD:
            return None
        chunk = tls.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


class _SipHandler(socketserver.BaseRequestHandler):
    """One SIP TLS connection: handshake (in this thread), one request, one response."""

    server: SipTlsServer

    def handle(self) -> None:
        raw: socket.socket = self.request
        raw.settimeout(SIP_TIMEOUT)
        try:
            with self.server.context.wrap_socket(raw, server_side=True) as tls:
                head = _read_head(tls)
                if head is not None:
                    tls.sendall(sip_response(head))
        except (OSError, ValueError):  # ssl.SSLError and timeouts are OSErrors
            pass


class SipTlsServer(socketserver.ThreadingTCPServer):
    """SIP over TLS on an already bound, listening socket; a thread per connection."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        super().__init__(sock.getsockname()[:2], _SipHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()
        self.context = context


# -- the network -------------------------------------------------------------------------


@dataclass
class _Bound:
    """The listeners of one node and where they are."""

    address: str  # the node's address in the model
    host: str  # the loopback address it listens on
    servings: list[Serving] = field(default_factory=list)


def _primary_address(state: State) -> str:
    rows = state.table(MANAGEMENT_VM).rows
    return next((r["address"] for _, r in sorted(rows.items()) if r["primary"]), "")


def _node_addresses(state: State) -> dict[NodeId, str]:
    out: dict[NodeId, str] = {}
    for rdef in (MANAGEMENT_VM, WORKER_VM):
        for key, row in sorted(state.table(rdef).rows.items()):
            if not (rdef is MANAGEMENT_VM and row["primary"]):
                out[NodeId(rdef.name, key)] = row["address"]
    return out


class NodeNetwork:
    """Every node's listeners on a loopback /24 that mirrors the seed's (see module doc)."""

    def __init__(
        self,
        model: PexipModel,
        api: Callable[..., Any],
        *,
        label: str,
        sync_delay: float = 0.0,
        https_port: int = 8443,
        sip_tls_port: int = 5061,
    ) -> None:
        self.model = model
        self.api = api
        self.label = label
        self.https_port = https_port
        self.sip_tls_port = sip_tls_port
        self.certificates = CertificateSync(model, sync_delay)
        self.seed_network = ipaddress.IPv4Network(f"{model.seed.address_prefix}0/24")
        self.subnet: ipaddress.IPv4Network | None = None
        self.api_host = ""
        self._bound: dict[NodeId, _Bound] = {}
        self._lock = threading.Lock()

    @property
    def address_map(self) -> dict[str, str]:
        """``{"<seed /24>": "<loopback /24>"}`` (empty before ``start``)."""
        return {str(self.seed_network): str(self.subnet)} if self.subnet else {}

    @property
    def port_map(self) -> dict[int, int]:
        """``{443: https_port, 5061: sip_tls_port}``."""
        return {443: self.https_port, 5061: self.sip_tls_port}

    def loopback(self, address: str) -> str | None:
        """The loopback address of a node ``address``, or None outside the seed's /24."""
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
            self.subnet = ipaddress.IPv4Network(
                f"127.{_RNG.randint(2, 254)}.{_RNG.randint(2, 254)}.0/24"
            )
            host = self.loopback(primary_address)
            if host is None:
                raise OSError(
                    f"simulator {self.label!r}: the primary Management Node's address "
                    f"{primary_address!r} is not in the seed's network {self.seed_network}"
                )
            try:
                with self._lock:
                    self._bind(PRIMARY, primary_address, host)
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
        """Make the listeners match the model's nodes (created, deleted, re-addressed)."""
        with self._lock:
            if self.subnet is not None:
                self._sync_locked(strict=False)

    def _sync_locked(self, *, strict: bool) -> None:
        wanted = self.model.read_state(_node_addresses)
        gone = [n for n, b in self._bound.items() if n != PRIMARY and wanted.get(n) != b.address]
        close_all([s for n in gone for s in self._bound[n].servings])
        for node in gone:
            del self._bound[node]
            self.certificates.forget(node)
        for node, address in wanted.items():
            host = self.loopback(address)
            if node in self._bound or host is None:
                continue
            try:
                self._bind(node, address, host)
            except OSError:
                if strict:
                    raise
        self.certificates.observe(self._bound)

    def _bind(self, node: NodeId, address: str, host: str) -> None:
        context = self.certificates.server_context(node)
        sockets: list[socket.socket] = []
        try:
            sockets.append(bind_socket(host, self.https_port))
            if node.kind == WORKER_VM.name:
                sockets.append(bind_socket(host, self.sip_tls_port))
        except OSError:
            for sock in sockets:
                sock.close()
            raise
        name = f"pexip-sim-{self.label}-{node.kind}-{node.key or 'primary'}"
        app = self.api if node.kind == MANAGEMENT_VM.name else conferencing_web(self.model)
        bound = _Bound(address, host, [Serving(https_server(sockets[0], app, context), name)])
        if len(sockets) > 1:
            bound.servings.append(Serving(SipTlsServer(sockets[1], context), f"{name}-sip"))
        self._bound[node] = bound

    def hosts(self) -> dict[NodeId, str]:
        """Where each node with listeners listens (``PRIMARY`` is the API's node)."""
        with self._lock:
            return {node: bound.host for node, bound in self._bound.items()}

    def close(self) -> None:
        """Close every listener (idempotent)."""
        with self._lock:
            bound, self._bound = self._bound, {}
        close_all([s for b in bound.values() for s in b.servings])
        for node in bound:
            self.certificates.forget(node)
