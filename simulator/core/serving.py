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

import contextlib
import io
import os
import selectors
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, DechunkedInput, WSGIRequestHandler, make_server

HSTS = "max-age=31536000; includeSubDomains"
#: Sees a TCP connection before its TLS handshake: whether the handshake may go on.
Screen = Callable[[socket.socket], bool]


#: A descriptor that is always ready to read: what werkzeug's after-response drain waits on
#: (see `QuietHandler.run_wsgi`), so that it never waits.
_READY, _READY_OTHER_END = socket.socketpair()
_READY_OTHER_END.send(b"\0")


class _Drained(io.RawIOBase):
    """What werkzeug's after-response drain reads instead of the connection: nothing (see
    `QuietHandler.run_wsgi`)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


class _Counted(io.RawIOBase):
    """A ``Content-Length`` request body as the app reads it: ``length`` bytes at most (what
    follows is the next request), counting the bytes read."""

    def __init__(self, stream: Any, length: int) -> None:
        self.stream = stream
        self.length = length
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    @property
    def left(self) -> int:
        """The bytes of the body not read yet."""
        return self.length - self.read_bytes

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.left)
        data = self.stream.read1(wanted) if wanted > 0 else b""
        buffer[: len(data)] = data
        self.read_bytes += len(data)
        return len(data)


class KeptAlive:
    """A server's kept-alive connections, and `renew`: what a web server's reload does to
    them (nginx's and Apache's graceful reload alike): the idle ones close now, the busy ones
    after their request, each answer then saying ``Connection: close``. New connections
    handshake under the server's TLS context as it is then."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: set[socket.socket] = set()
        self.renewals = 0

    def idle(self, connection: socket.socket, idle: bool) -> None:
        """``connection`` waits for its next request (True) or is busy or gone (False)."""
        with self._lock:
            (self._idle.add if idle else self._idle.discard)(connection)

    def rest(self, connection: socket.socket, renewal: int) -> bool:
        """``connection``, begun at ``renewal``, has answered a request: it waits for the next
        one (True), or it is to close, the server having been renewed since (False)."""
        with self._lock:
            if renewal != self.renewals:
                return False
            self._idle.add(connection)
            return True

    def idle_count(self) -> int:
        """How many connections wait for a next request."""
        with self._lock:
            return len(self._idle)

    def renew(self) -> None:
        """Close the idle connections; the busy ones close after their request."""
        with self._lock:
            self.renewals += 1
            idle, self._idle = self._idle, set()
        for connection in idle:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown: the connection's thread, blocked reading the
                # next request, sees the end of the stream (SSLSocket.shutdown would unwrap).
                socket.socket.shutdown(connection, socket.SHUT_RDWR)


def kept_alive(server: socketserver.BaseServer) -> KeptAlive:
    """The kept-alive connections of a server made by `https_server`."""
    return server.kept_alive  # type: ignore[attr-defined,no-any-return]


class QuietHandler(WSGIRequestHandler):
    """No access log, no TLS-handshake noise (port probes); errors of the app still log.
    Connections are kept alive, as a real Management Node's web server keeps them.

    ``timeout`` bounds how long an idle or half-open connection can hold a worker thread.
    """

    timeout = 30
    #: What the app left unread of a request body (a refused oversized one), up to this size,
    #: is read and dropped: the client sees the answer, not a reset, and the connection stays.
    DRAIN_LIMIT = 64 << 20

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes; without this Nagle waits for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._kept: KeptAlive = kept_alive(self.server)
        self._renewal = self._kept.renewals
        self._kept.idle(self.connection, True)

    def finish(self) -> None:
        self._kept.idle(self.connection, False)
        super().finish()

    def _renewed(self) -> bool:
        """Whether the server was renewed (`KeptAlive.renew`) since this connection began."""
        return self._renewal != self._kept.renewals

    def run_wsgi(self) -> None:
        """werkzeug's, on a kept-alive connection.

        werkzeug closes every connection (``Connection: close``) because after a response it
        reads whatever the client sent on, for up to 10 ms, which on a kept-alive connection
        would be the next request. Here that read waits on `_READY` and reads `_Drained`:
        nothing, at once (the next request stays in the stream); what the app left unread
        of a ``Content-Length`` body is read and dropped instead, exactly that many bytes.
        A chunked body, a remainder over `DRAIN_LIMIT`, a client that says ``Connection:
        close`` (or HTTP/1.0), an error werkzeug closes on and a renewal (`KeptAlive`) still
        close the connection. Why: a new connection costs a TCP and a TLS handshake on both
        sides, and a verification run makes hundreds of requests.
        """
        self._kept.idle(self.connection, False)
        self._stream, self._body = self.rfile, None
        self._keep_alive = not self.close_connection and not self._renewed()
        self.rfile = _Drained()  # type: ignore[assignment]
        connection = self.connection
        try:
            super().run_wsgi()
        finally:
            self.rfile, self.connection = self._stream, connection
            keep_alive, self._keep_alive = self._keep_alive, False  # errors outside: close
        if self._body is None or not keep_alive:
            self.close_connection = True
            return
        left = self._body.left
        if left > self.DRAIN_LIMIT or not self._discard(left):
            self.close_connection = True
        elif not self.close_connection and not self._kept.rest(self.connection, self._renewal):
            self.close_connection = True

    def _discard(self, size: int) -> bool:
        """Read and drop ``size`` bytes of the request; whether there were as many (a client
        that stops sending is given up on after the handler's ``timeout``)."""
        try:
            while size > 0:
                data = self._stream.read(min(size, 1 << 20))
                if not data:
                    return False
                size -= len(data)
        except OSError:
            return False
        return True

    def make_environ(self) -> Any:
        """werkzeug's environ, its ``wsgi.input`` the connection's stream: a ``Content-Length``
        body counted (`_body`); a chunked body read as werkzeug reads it, and a length that is no
        count of bytes read as none, `_body` left None: the connection closes after the answer.
        From here to the end of `run_wsgi` werkzeug's ``connection`` is `_READY`."""
        environ = super().make_environ()
        self.connection = _READY
        if environ.get("wsgi.input_terminated"):
            environ["wsgi.input"] = DechunkedInput(self._stream)
            return environ
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        body = _Counted(self._stream, max(length, 0))
        if length >= 0:
            self._body = body
        environ["wsgi.input"] = body
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        """werkzeug's ``Connection: close`` is left out while the connection may stay."""
        if keyword.lower() == "connection" and value.lower() == "close":
            self._keep_alive = getattr(self, "_keep_alive", False) and not self._renewed()
            if self._keep_alive and self._body is not None:
                return
        super().send_header(keyword, value)

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
    server.kept_alive = KeptAlive()  # type: ignore[attr-defined]
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
