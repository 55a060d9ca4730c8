"""Serving sockets: every simulator's HTTPS servers and the one thread that accepts for them.

Shared by every simulated system (the Pexip API and its nodes' listeners, the BeyondTrust API
and its appliances' listeners): the HSTS header web responses carry, a quiet request handler,
binding a listening socket without werkzeug's ``sys.exit`` on failure (`bind_socket`, or
`listen_https` with a one-line error naming who could not listen), and serving
``socketserver`` servers.

Every server of the process is served by one acceptor thread (`Serving`): it waits on all
their sockets at once and hands each connection (or datagram) to the server, whose
``ThreadingMixIn`` answers it in a thread of its own. A thread per server polling for its own
connections cost a deployment of hundreds of nodes a core while idle. TLS handshakes never
happen in the accept loop (``do_handshake_on_connect`` is off; the handshake runs at the first
read, in the connection's own thread), so a silent TCP client (a port probe) cannot block other
connections.
"""

from __future__ import annotations

import os
import selectors
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HSTS = "max-age=31536000; includeSubDomains"
#: Sees a TCP connection before its TLS handshake: whether the handshake may go on.
Screen = Callable[[socket.socket], bool]


class QuietHandler(WSGIRequestHandler):
    """No access log, no TLS-handshake noise (port probes); errors of the app still log.

    ``timeout`` bounds how long an idle or half-open connection can hold a worker thread.
    """

    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes; without this Nagle waits for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        """Serve the connection, unless the server's ``screen`` (see `https_server`) refuses
        its ClientHello first."""
        screen: Screen | None = getattr(self.server, "screen", None)
        if screen is None or screen(self.connection):
            super().handle()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6 literal); raises ``OSError``.

    ``SO_REUSEADDR`` lets a closed listener's address be bound again at once (connections in
    TIME_WAIT); it never lets two listeners share an address and port on Linux.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def https_url(host: str, port: int) -> str:
    """``https://<host>:<port>/`` (an IPv6 literal in brackets)."""
    return f"https://[{host}]:{port}/" if ":" in host else f"https://{host}:{port}/"


def https_server(
    sock: socket.socket, app: Any, context: ssl.SSLContext, screen: Screen | None = None
) -> BaseWSGIServer:
    """A threaded werkzeug HTTPS server for ``app`` on the bound socket ``sock``.

    The server works on a duplicate of ``sock``'s descriptor; ``sock`` itself is closed here.
    ``screen``, when given, sees each connection before its TLS handshake (in the connection's
    thread) and says whether the handshake may go on; when not, it has answered the client
    itself (``clienthello.screened``) and the connection closes.
    """
    host, port = sock.getsockname()[:2]
    try:
        server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=QuietHandler,
            ssl_context=context,
            fd=sock.fileno(),
        )
    finally:
        sock.close()
    server.socket.do_handshake_on_connect = False  # type: ignore[attr-defined]
    server.screen = screen  # type: ignore[attr-defined]
    return server


class _Acceptor:
    """One daemon thread accepting for every registered server (see module doc)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._changes: list[tuple[socketserver.BaseServer, threading.Event | None]] = []
        self._thread: threading.Thread | None = None

    def add(self, server: socketserver.BaseServer) -> None:
        self._change([(server, None)])

    def remove(self, servers: list[socketserver.BaseServer]) -> None:
        """Stop accepting for ``servers``; returns once the acceptor no longer uses them."""
        changes = [(server, threading.Event()) for server in servers]
        self._change(changes)  # type: ignore[arg-type]
        for _, done in changes:
            done.wait(timeout=10)

    def _change(
        self, changes: list[tuple[socketserver.BaseServer, threading.Event | None]]
    ) -> None:
        with self._lock:
            self._changes += changes
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sim-accept", daemon=True)
                self._thread.start()
        self._wake_write.send(b"\0")

    def _apply_changes(self) -> None:
        with self._lock:
            changes, self._changes = self._changes, []
        for server, removed in changes:
            if removed is None:
                self._selector.register(server.socket, selectors.EVENT_READ, server)  # type: ignore[attr-defined]
            else:
                try:
                    self._selector.unregister(server.socket)  # type: ignore[attr-defined]
                except (KeyError, ValueError):
                    pass
                removed.set()

    def _run(self) -> None:
        while True:
            self._apply_changes()
            for key, _ in self._selector.select():
                if key.data is None:
                    try:
                        while self._wake_read.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                server: socketserver.BaseServer = key.data
                try:
                    server._handle_request_noblock()  # type: ignore[attr-defined]
                except OSError:
                    pass  # the server is being closed


_ACCEPTOR = _Acceptor()
os.register_at_fork(after_in_child=lambda: globals().__setitem__("_ACCEPTOR", _Acceptor()))


class Serving:
    """A ``socketserver`` server answering (through the process's acceptor) until
    ``close()``. ``name`` names it in errors."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self.name = name
        _ACCEPTOR.add(server)

    def close(self) -> None:
        """Stop accepting and close the listening socket (connections being served finish)."""
        close_all([self])


def close_all(servings: Iterable[Serving]) -> None:
    """Close several servers at once: stop accepting for all, then close their sockets."""
    servers = [serving.server for serving in servings]
    _ACCEPTOR.remove(servers)
    for server in servers:
        server.server_close()


def listen_https(
    host: str, port: int, app: Any, context: ssl.SSLContext, *, who: str, name: str
) -> Serving:
    """Bind ``host:port`` and serve ``app`` over HTTPS (through the acceptor) as ``name``.

    ``OSError`` in one line, ``"<who> cannot listen on <host>:<port>: <reason>"``, when the
    address cannot be bound. The port actually bound is ``serving.server.port``.
    """
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise OSError(f"{who} cannot listen on {host}:{port}: {error.strerror or error}") from None
    return Serving(https_server(sock, app, context), name)
