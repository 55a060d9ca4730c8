"""The simulator object: a WSGI app (auth, HSTS, request log) served over HTTPS on loopback.

``ManagementNodeSimulator(...).start()`` generates a per-start CA and leaf (``tls``), writes the
CA to ``workdir/<name>-ca.pem`` and serves werkzeug's threaded server in a daemon thread.
Every response carries HSTS. Missing or wrong HTTP Basic credentials → 401 with
``WWW-Authenticate: Basic realm="Pexip Infinity"`` on every path, ``/_sim/`` included.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from simulator.pexip.control import ControlRoutes, RequestLog
from simulator.pexip.errors import ApiError, Unauthorized
from simulator.pexip.models import PexipModel
from simulator.pexip.routes import ApiRoutes, error_response
from simulator.pexip.seed import Seed
from simulator.pexip.tls import make_credentials, server_context

HSTS = "max-age=31536000; includeSubDomains"


class _QuietHandler(WSGIRequestHandler):
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


class SimulatorApp:
    """The WSGI application: authentication, ``/_sim/`` and ``/api/`` dispatch, logging."""

    def __init__(self, model: PexipModel, username: str, password: str) -> None:
        self.model = model
        self.log = RequestLog()
        self.base_url = ""
        self._credentials = f"{username}:{password}".encode("utf-8", "surrogatepass")
        self._api = ApiRoutes(model)
        self._control = ControlRoutes(model, self.log)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._respond(request)
        response.headers["Strict-Transport-Security"] = HSTS
        return response(environ, start_response)

    def _authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._credentials)

    def _respond(self, request: Request) -> Response:
        path = request.path
        try:
            if not self._authenticated(request):
                raise Unauthorized()
            if path == "/_sim" or path.startswith("/_sim/"):
                response = self._control.handle(request)
            else:
                response = self._api.handle(request, self.base_url)
        except ApiError as error:
            response = error_response(error)
        if path.startswith("/api/"):
            query = request.query_string.decode("utf-8", "replace")
            self.log.record(request.method, path, query, response.status_code)
        return response


def _file_label(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "simulator"


class ManagementNodeSimulator:
    """A simulated Pexip Infinity Management Node serving its API over HTTPS.

    ``url`` and ``ca_file`` are set by ``start()``. ``model`` is the live state (thread-safe),
    for in-process helpers such as ``model.raise_alarm``.
    """

    def __init__(
        self,
        name: str = "pexip",
        *,
        username: str = "admin",
        password: str,
        workdir: Path,
        seed: Seed | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.workdir = Path(workdir)
        self.model = PexipModel(seed or Seed())
        self.app = SimulatorApp(self.model, username, password)
        self.ca_file = self.workdir / f"{_file_label(name)}-ca.pem"
        self.url = ""
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def seed(self) -> Seed:
        """The factory-fresh deployment this simulator resets to."""
        return self.model.seed

    def start(self) -> ManagementNodeSimulator:
        """Generate TLS material, bind and serve in a daemon thread; return once listening.

        Raises ``OSError`` if the address cannot be bound, ``RuntimeError`` if already started.
        """
        if self._server is not None:
            raise RuntimeError(f"simulator {self.name!r} is already running")
        credentials = make_credentials(self.name, self.host)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file.write_bytes(credentials.ca_pem)
        try:
            server = make_server(
                self.host,
                self.port,
                self.app,
                threaded=True,
                request_handler=_QuietHandler,
                ssl_context=server_context(credentials),
            )
        except SystemExit:  # werkzeug exits the process when it cannot bind; a library must not
            raise OSError(
                f"simulator {self.name!r} cannot listen on {self.host}:{self.port}"
            ) from None
        # Handshake in the worker thread, not in accept(): a silent TCP client (a port probe)
        # must not block the accept loop.
        server.socket.do_handshake_on_connect = False  # type: ignore[attr-defined]
        self.port = server.server_port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"https://{host}:{self.port}/"
        self.app.base_url = self.url
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"pexip-sim-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> ManagementNodeSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
