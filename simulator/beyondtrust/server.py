"""The simulator object: the JSON API over HTTPS and every appliance's TLS listener, on loopback.

``BeyondTrustSimulator(...).start()`` makes a per-start CA and a certificate for the API
(``simulator.core.tls``), writes the CA to ``ca_file`` (public), serves the API (``routes``)
with werkzeug's threaded server on ``host:port`` and starts one ``ApplianceListener`` per
appliance of the site (port 0 by default: free ports). Every request needs HTTP Basic
credentials (``/_sim/`` included); missing or wrong → 401 with ``WWW-Authenticate``.

The private control plane (never on ``/api/``; errors in the API's ``{"error": {"field",
"message"}}`` shape):

- ``POST /_sim/reset`` → 204. Without a body (or with ``{}``): every appliance back to its
  factory state, each part of a cloud site or not as it was created (``Site.reset``). With
  ``{"appliance": "<name>", "cloud": true|false}``: only that appliance is reset, the others
  are left untouched; ``cloud`` (default false) makes it part of a cloud site (its self-signed
  Create is then refused) or not. 404 (field ``appliance``) for an unknown appliance, 400
  naming the field for a bad body.
- ``GET /_sim/faults`` → ``{"active": [names], "available": {name: "BT-NN: description"}}``
  of the fault injections (``faults``), each breaking one guide behaviour on purpose so that
  tests can show an "act" scenario fails when the appliance misbehaves; ``PUT /_sim/faults``
  with ``{"active": [names]}`` sets them (``[]`` clears them) and answers like GET (400, field
  ``active``, naming an unknown fault; nothing changed). Faults are not state: a reset keeps
  them; only PUT changes them. They apply to every appliance.

Remember: this is a test double of an appliance that has no certificate API at all (see the
package docstring); the API is Accord's own.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from simulator.beyondtrust.errors import (
    BtError,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
    ValidationError,
)
from simulator.beyondtrust.faults import Faults
from simulator.beyondtrust.listener import ApplianceListener, require_loopback
from simulator.beyondtrust.models import Appliance, ApplianceSpec, Clock, Site
from simulator.beyondtrust.routes import ApiRoutes, parse_json_object, raw_body
from simulator.core.service import Service
from simulator.core.serving import Serving, https_url, listen_https
from simulator.core.tls import make_credentials, server_context
from simulator.core.web import error_response, json_response

__all__ = ["DEFAULT_APPLIANCES", "BeyondTrustSimulator", "SimulatorApp"]

DEFAULT_APPLIANCES = (ApplianceSpec("primary", "access.example.com"),)
RESET = "/_sim/reset"
FAULTS = "/_sim/faults"
RESET_FIELDS = ("appliance", "cloud")


def _credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class SimulatorApp:
    """The WSGI application: HTTP Basic authentication, ``/_sim/reset``, ``/_sim/faults`` and
    ``/api/``."""

    def __init__(
        self,
        site: Site,
        username: str,
        password: str,
        routes: ApiRoutes | None = None,
    ) -> None:
        self.site = site
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")
        self.routes = routes or ApiRoutes(site)

    def __repr__(self) -> str:
        return f"SimulatorApp(appliances={self.site.names!r})"

    def _authorised(self, request: Request) -> bool:
        given = _credentials(request.headers.get("Authorization", ""))
        if given is None:
            return False
        user_ok = hmac.compare_digest(given[0].encode("utf-8"), self._username)
        password_ok = hmac.compare_digest(given[1].encode("utf-8"), self._password)
        return user_ok and password_ok

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self._respond(request)
        except BtError as error:
            response = error_response(error)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if not self._authorised(request):
            raise Unauthorized()
        path = request.path.rstrip("/")
        if path == RESET:
            if request.method != "POST":
                raise MethodNotAllowed(request.method, ["POST"], request.path)
            self._reset(request)
            return Response(status=204)
        if path == FAULTS:
            if request.method not in ("GET", "PUT"):
                raise MethodNotAllowed(request.method, ["GET", "PUT"], request.path)
            if request.method == "GET":
                return json_response(self.faults.describe())
            return json_response(self.faults.set(parse_json_object(request)))
        if path.startswith("/api/"):
            return self.routes.handle(request)
        raise NotFound(f"not found: {request.path}")

    @property
    def faults(self) -> Faults:
        """The active faults of every appliance (``Site.faults``)."""
        return self.site.faults

    def _reset(self, request: Request) -> None:
        """``POST /_sim/reset``: every appliance, or the one the body names (see module doc).
        The body is checked whole before anything is reset."""
        if not raw_body(request).strip():
            self.site.reset()
            return
        body = parse_json_object(request)
        unknown = sorted(str(k) for k in body if k not in RESET_FIELDS)
        if unknown:
            raise ValidationError(f"unknown field (known: {', '.join(RESET_FIELDS)})", unknown[0])
        cloud = body.get("cloud", False)
        if not isinstance(cloud, bool):
            raise ValidationError("must be true or false", "cloud")
        if "appliance" not in body:
            if "cloud" in body:
                raise ValidationError(
                    "is required with cloud: name the appliance to reset", "appliance"
                )
            self.site.reset()
            return
        name = body["appliance"]
        if not isinstance(name, str) or not name:
            raise ValidationError("must be the name of an appliance of the simulator", "appliance")
        self.site.get(name).reset(cloud=cloud)


class BeyondTrustSimulator(Service):
    """Simulated BeyondTrust PRA appliances (a test double): the JSON API and their TLS
    listeners.

    Public attributes (``url``, ``port`` and the listeners' ports are set by ``start()``):

    - ``url``: the API's base URL, ``https://<host>:<port>/``; verify it with ``ca_file``.
    - ``ca_file``: the per-start CA certificate (PEM) of the API's certificate (valid for
      ``127.0.0.1``, ``localhost`` and ``host``).
    - ``site``: the appliances (``Site``); ``appliance(name)`` one of them, for in-process
      steps; changes made in-process are served at the next handshake.
    - ``listeners``: ``{name: (host, port)}`` of every appliance's TLS listener.
    - ``faults``: the active fault injections of every appliance (``faults.Faults``), as
      ``/_sim/faults`` sets them.

    ``workdir``: where ``ca_file`` is written (default: a temporary folder removed by
    ``stop()``). ``host`` and ``listener_host``: the loopback addresses the API and the TLS
    listeners bind (anything but loopback is a ``ValueError``).
    """

    def __init__(
        self,
        appliances: Sequence[ApplianceSpec] = DEFAULT_APPLIANCES,
        *,
        username: str = "admin",
        password: str,
        workdir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        listener_host: str = "127.0.0.1",
        clock: Clock | None = None,
    ) -> None:
        if not password:
            raise ValueError("the simulator needs a password for its API")
        require_loopback(host, "host")
        require_loopback(listener_host, "listener_host")
        self.site = Site(appliances, clock=clock)
        self.host = host
        self.port = port
        self.listener_host = listener_host
        self._workdir = Path(workdir) if workdir is not None else None
        self._own_workdir: Path | None = None
        self.ca_file = Path()
        self.url = ""
        self._listeners: dict[str, ApplianceListener] = {}
        self.routes = ApiRoutes(self.site, self._listener_address)
        self.app = SimulatorApp(self.site, username, password, self.routes)
        self._serving: Serving | None = None

    def __repr__(self) -> str:
        return f"BeyondTrustSimulator(url={self.url!r}, appliances={self.site.names!r})"

    def _listener_address(self, name: str) -> tuple[str, int] | None:
        listener = self._listeners.get(name)
        return listener.address if listener is not None else None

    @property
    def listeners(self) -> dict[str, tuple[str, int]]:
        """``{appliance name: (host, port)}`` of the running TLS listeners."""
        return {name: listener.address for name, listener in self._listeners.items()}

    @property
    def faults(self) -> Faults:
        """The active faults of every appliance (``/_sim/faults``)."""
        return self.site.faults

    def appliance(self, name: str) -> Appliance:
        """One appliance (``NotFound`` for an unknown name)."""
        return self.site.get(name)

    def start(self) -> BeyondTrustSimulator:
        """Serve the API and start every listener; return once listening. ``OSError`` (one
        line) if something cannot bind, ``RuntimeError`` if already started."""
        if self._serving is not None:
            raise RuntimeError("the BeyondTrust simulator is already running")
        workdir = self._workdir
        if workdir is None:
            workdir = self._own_workdir = Path(tempfile.mkdtemp(prefix="accord-bt-sim-"))
        workdir.mkdir(parents=True, exist_ok=True)
        credentials = make_credentials("beyondtrust", self.host)
        self.ca_file = workdir / "beyondtrust-sim-ca.pem"
        self.ca_file.write_bytes(credentials.ca_pem)
        try:
            for appliance in self.site:
                listener = ApplianceListener(appliance, host=self.listener_host)
                self._listeners[appliance.name] = listener.start()
            self._serving = listen_https(
                self.host,
                self.port,
                self.app,
                server_context(credentials),
                who="the BeyondTrust simulator",
                name="bt-sim-api",
            )
        except BaseException:
            self.stop()
            raise
        self.port = self._serving.server.port  # type: ignore[attr-defined]
        self.url = https_url(self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop the API and every listener (idempotent)."""
        serving, self._serving = self._serving, None
        listeners, self._listeners = list(self._listeners.values()), {}
        for listener in listeners:
            listener.stop()
        if serving is not None:
            serving.close()
        if self._own_workdir is not None:
            shutil.rmtree(self._own_workdir, ignore_errors=True)
            self._own_workdir = None
