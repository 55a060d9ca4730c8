"""A hostile system: a real HTTPS server on loopback that forwards to an honest one and lies.

`HostileServer` is the standard library's threading HTTP server (``http.server``; it parses
every request), wrapped in TLS with a certificate of a throwaway CA (`accord.pki.CA`). Each
request goes to its ``behaviour``, which may forward it to the honest upstream (`forward`) and
return that answer changed, or return anything else: a `Reply` (status, headers, body), or
`Raw` bytes written as they come (a slow drip, a body that never ends, nothing at all).
Its certificate names ``name`` (a DNS name or an address); ``wrong_name`` makes it present one
for another name. Every request is
kept (`seen`), so a test can show what reached the server, and what did not.

With ``tls=False`` it is a plain HTTP server: the "other host" a redirect or a pagination link
points to.
"""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from accord.http import session
from accord.pki import CA

NAME = "mgr.hostile.example"
WRONG_NAME = "someone-else.hostile.example"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def value(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Raw:
    """Bytes written straight to the connection by ``write`` (which may take its time); the
    connection is closed after it."""

    write: Callable[[BinaryIO, threading.Event], None]


Behaviour = Callable[["HostileServer", Request], "Reply | Raw"]


def drip(data: bytes, pause: float) -> Raw:
    """``data`` one byte at a time, ``pause`` seconds apart (until the client hangs up)."""

    def write(out: BinaryIO, stop: threading.Event) -> None:
        for byte in data:
            if stop.wait(pause):
                return
            out.write(bytes([byte]))
            out.flush()

    return Raw(write)


def silence() -> Raw:
    """Read the request, answer nothing, hold the connection until the server stops."""
    return Raw(lambda _out, stop: stop.wait(60))


def endless(head: bytes, filler: bytes, total: int) -> Raw:
    """``head`` then ``filler`` repeated up to ``total`` bytes, as fast as the client reads."""

    def write(out: BinaryIO, stop: threading.Event) -> None:
        out.write(head)
        sent = len(head)
        while sent < total and not stop.is_set():
            out.write(filler)
            sent += len(filler)

    return Raw(write)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), body)
        hostile = self.server.hostile
        hostile.seen.append(request)
        answer = hostile.behaviour(hostile, request)
        if isinstance(answer, Raw):
            self.close_connection = True
            try:
                answer.write(self.wfile, hostile.stopping)
            except OSError:
                pass
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hostile: HostileServer

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        if self.hostile.tls is not None:
            # The handshake happens on the handler's thread, at its first read.
            sock = self.hostile.tls.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that refused our certificate or hung up: what these tests expect


def forward_only(server: HostileServer, request: Request) -> Reply:
    assert server.forward is not None
    return server.forward(request)


class HostileServer:
    """A server on 127.0.0.1 (see the module's docstring); ``ca_file`` is what trusts it."""

    def __init__(
        self,
        directory: Path,
        forward: Callable[[Request], Reply] | None = None,
        *,
        tls: bool = True,
        name: str = NAME,
    ) -> None:
        self.forward = forward
        self.behaviour: Behaviour = forward_only
        self.wrong_name = False
        self.seen: list[Request] = []
        self.stopping = threading.Event()
        self.tls: ssl.SSLContext | None = None
        self.ca_file = directory / "no-ca.pem"
        if tls:
            self.tls = self._contexts(directory, name)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hostile = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _contexts(self, directory: Path, right_name: str) -> ssl.SSLContext:
        ca = CA.new("Hostile Test CA")
        directory = Path(tempfile.mkdtemp(prefix="hostile-", dir=directory))
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_text(ca.cert_pem)
        contexts = []
        for name in (right_name, WRONG_NAME):
            leaf = ca.issue_cert(name)
            cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
            cert.write_text(leaf.chain_pem)
            key.write_text(leaf.key_pem())
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            contexts.append(context)
        right, wrong = contexts

        def choose(sock: ssl.SSLObject, _name: str | None, _context: ssl.SSLContext) -> None:
            if self.wrong_name:
                sock.context = wrong

        right.sni_callback = choose  # type: ignore[assignment]
        return right

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self, behaviour: Behaviour = forward_only) -> None:
        """Back to ``behaviour`` (forwarding by default), the right name, nothing seen."""
        self.behaviour = behaviour
        self.wrong_name = False
        self.seen.clear()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class Forwarder:
    """The honest upstream: each request sent on to ``base`` (its credentials, not the
    client's), ``swap``'s bytes replaced in request bodies (a canary password for the real
    one), and its answer returned with the headers a client needs."""

    KEPT_IN = ("Content-Type", "SOAPAction", "Cookie", "Accept")
    KEPT_OUT = ("Content-Type", "Set-Cookie", "Location", "Content-Disposition")

    def __init__(
        self,
        base: str,
        verify: str,
        *,
        auth: tuple[str, str] | None = None,
        cert: tuple[str, str] | None = None,
        server_name: str | None = None,
        swap: dict[bytes, bytes] | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self._session = session(server_name)
        self._session.auth = auth
        self._session.cert = cert
        self._verify = verify
        self._swap = swap or {}

    def __call__(self, request: Request) -> Reply:
        body = request.body
        for old, new in self._swap.items():
            body = body.replace(old, new)
        headers = {k: v for k, v in request.headers.items() if k in self.KEPT_IN}
        answer = self._session.request(
            request.method,
            self.base + request.path,
            data=body or None,
            headers=headers,
            verify=self._verify,
            timeout=20,
            allow_redirects=False,
        )
        kept = {k: v for k, v in answer.headers.items() if k in self.KEPT_OUT}
        return Reply(answer.status_code, answer.content, kept)


def slowly(behaviour: Behaviour, pause: float) -> Behaviour:
    """``behaviour``, each answer ``pause`` seconds late."""

    def late(server: HostileServer, request: Request) -> Reply | Raw:
        time.sleep(pause)
        return behaviour(server, request)

    return late
