"""What each node serves on its ports, besides the API: the Conferencing Node web page, SIP
(UDP, TCP and TLS) and the system administrator's SSH port.

- Conferencing Node HTTPS (``conferencing_web``): ``GET /`` → a small "Pexip Infinity Connect"
  page, other paths 404, every response with HSTS.
- SIP over UDP, TCP and TLS (``SipUdpServer``, ``SipServer``): one request per datagram or
  connection; ``OPTIONS`` → ``200 OK``, anything else ``405 Method Not Allowed`` (see
  ``sip_response``).
- SSH (``SshServer``): while the system administrator account is enabled, the node's SSH port
  accepts connections and sends an SSH identification line, then closes (INFERRED banner: the
  simulator is no SSH server; a port probe only needs to see the port open and what answers).
"""

from __future__ import annotations

import random
import socket
import socketserver
import ssl
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from simulator.core.serving import HSTS, Screen
from simulator.pexip import faults
from simulator.pexip.models import PexipModel

SIP_TIMEOUT = 10.0  # seconds a SIP client has for the handshake and its request
SIP_MAX_HEAD = 16384  # bytes of request line and headers
SIP_ALLOW = "OPTIONS"
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"  # INFERRED: Pexip's base is Debian
SSH_TIMEOUT = 5.0
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


def _read_head(conn: socket.socket) -> bytes | None:
    """The request line and headers (without the blank line), or None if the client closes
    first or sends more than ``SIP_MAX_HEAD`` bytes of them."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > SIP_MAX_HEAD:
            return None
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


class _StreamServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server on an already bound, listening socket."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, sock: socket.socket, handler: type[socketserver.BaseRequestHandler]) -> None:
        super().__init__(sock.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()


class _SipHandler(socketserver.BaseRequestHandler):
    """One SIP connection (TLS handshake first when the server has a context): one request,
    one response."""

    server: SipServer

    def handle(self) -> None:
        raw: socket.socket = self.request
        raw.settimeout(SIP_TIMEOUT)
        context, screen = self.server.context, self.server.screen
        if context is not None and screen is not None and not screen(raw):
            return
        try:
            with context.wrap_socket(raw, server_side=True) if context else raw as conn:
                head = _read_head(conn)
                if head is not None:
                    conn.sendall(sip_response(head))
        except (OSError, ValueError):  # ssl.SSLError and timeouts are OSErrors
            pass


class SipServer(_StreamServer):
    """SIP over TCP (``context`` None) or TLS on a bound, listening socket."""

    def __init__(
        self, sock: socket.socket, context: ssl.SSLContext | None, screen: Screen | None = None
    ) -> None:
        super().__init__(sock, _SipHandler)
        self.context = context
        self.screen = screen  # sees each TLS connection first (`web.https_server`)


class _SipDatagramHandler(socketserver.BaseRequestHandler):
    """One SIP request in one UDP datagram; the response goes back to its source."""

    def handle(self) -> None:
        data, sock = self.request
        head = data.split(b"\r\n\r\n", 1)[0]
        if head.strip():
            try:
                sock.sendto(sip_response(head[:SIP_MAX_HEAD]), self.client_address)
            except OSError:
                pass


class SipUdpServer(socketserver.ThreadingUDPServer):
    """SIP over UDP on an already bound datagram socket."""

    daemon_threads = True
    block_on_close = False
    max_packet_size = 65535

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock.getsockname()[:2], _SipDatagramHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()


class _SshHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(SSH_TIMEOUT)
        try:
            conn.sendall(SSH_BANNER)
            conn.recv(256)  # the client's identification line, then goodbye
        except OSError:
            pass


class SshServer(_StreamServer):
    """The system administrator's SSH port while that account is enabled (see module doc)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, _SshHandler)


def bind_udp(host: str, port: int) -> socket.socket:
    """A UDP socket bound to ``host:port``; raises ``OSError``."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock
