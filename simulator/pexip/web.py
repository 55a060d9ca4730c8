"""Serving sockets: the HTTPS servers of the API and of the nodes, and their threads.

Shared by ``server`` (the API on its own address) and ``listeners`` (every node's listeners):
the HSTS header every web response carries, a quiet request handler, binding a listening
socket without werkzeug's ``sys.exit`` on failure, and serving a ``socketserver`` server in a
daemon thread. TLS handshakes never happen in the accept loop (``do_handshake_on_connect`` is
off; the handshake runs at the first read, in the connection's own thread), so a silent TCP
client (a port probe) cannot block other connections.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HSTS = "max-age=31536000; includeSubDomains"
POLL_INTERVAL = 0.05  # how soon a server notices a shutdown request (seconds)


class QuietHandler(WSGIRequestHandler):
    """No access log, no TLS-handshake noise (port probes); errors of the app still log.

    ``timeout`` bounds how long an idle or half-open connection can hold a worker thread.
    """

    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes; without this Nagle waits for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

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


def https_server(sock: socket.socket, app: Any, context: ssl.SSLContext) -> BaseWSGIServer:
    """A threaded werkzeug HTTPS server for ``app`` on the bound socket ``sock``.

    The server works on a duplicate of ``sock``'s descriptor; ``sock`` itself is closed here.
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
    return server


class Serving:
    """A ``socketserver`` server answering in a daemon thread until ``close()``."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and close the listening socket (connections being served finish)."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def close_all(servings: Iterable[Serving]) -> None:
    """Close several servers at once (each takes up to ``POLL_INTERVAL`` to notice)."""
    threads = [threading.Thread(target=s.close, daemon=True) for s in servings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
