"""The simulator object: a WSGI app (auth, HSTS, request log) served over HTTPS on loopback.

By default ``ManagementNodeSimulator(...).start()`` generates a per-start CA and leaf (``tls``),
writes the CA to ``workdir/<name>-ca.pem`` and serves werkzeug's threaded server on
``host:port`` in a daemon thread. With ``node_listeners=True`` every node of the deployment
listens instead, on a loopback /24 mirroring the seed's, each serving its assigned
certificate (``listeners``, ``nodetls``); the API is the Management Node's HTTPS listener.
Every response carries HSTS. Missing or wrong credentials → 401 with ``WWW-Authenticate:
Basic realm="Pexip Infinity"`` (``/_sim/`` included: it takes the simulator's own administrator
account); with ``enforce_authentication`` the Management Node's authentication settings decide
who else may use the API and the Administrator interface (``access``, ``adminweb``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from simulator.core.service import Service
from simulator.core.serving import HSTS, Serving, https_url, listen_https
from simulator.core.tls import make_credentials, server_context
from simulator.core.web import error_response
from simulator.pexip.access import Access, DirectoryLike
from simulator.pexip.adminweb import AdminWeb
from simulator.pexip.certificate_resources import CA_CERTIFICATE
from simulator.pexip.certificates import node_fqdn
from simulator.pexip.control import WRITE_METHODS, ControlRoutes, RequestLog
from simulator.pexip.directory import Directory, Resolve
from simulator.pexip.errors import ApiError, Unauthorized
from simulator.pexip.listeners import NodeNetwork, node_uri
from simulator.pexip.models import PexipModel
from simulator.pexip.nodetls import PRIMARY, node_row
from simulator.pexip.routes import ApiRoutes
from simulator.pexip.seed import Seed, shipped_certificate

__all__ = ["ManagementNodeSimulator", "SimulatorApp"]


class SimulatorApp:
    """The WSGI application: authentication, ``/_sim/``, ``/admin/`` and ``/api/`` dispatch,
    logging.

    Who may use ``/api/`` and ``/admin/`` is ``access``'s business (the authentication
    settings, when enforced); ``/_sim/`` always takes the simulator's own administrator
    credentials. ``/admin/`` is the Administrator interface's login and sessions
    (``adminweb``), which also checks Host headers as the security wizard says.

    ``after_write`` (if set) runs after every successful (status < 400) POST, PUT, PATCH or
    DELETE of ``/_sim/`` or of an API resource the node listeners follow (`LISTENED`), before
    the response is sent: the node listeners follow the model through it. Other writes
    (``/admin/`` logins and logouts, locations, servers, roles, CSRs...) change nothing the
    listeners serve, so they do not run it: following the model walks every node, which made
    deploying hundreds of nodes slow, and a hundred logins ran the firewall's ``nft``.
    """

    def __init__(
        self,
        model: PexipModel,
        username: str,
        password: str,
        *,
        enforce_authentication: bool = False,
        directory: DirectoryLike | None = None,
    ) -> None:
        self.model = model
        self.log = RequestLog()
        self.base_url = ""
        self.after_write: Callable[[], None] | None = None
        self.access = Access(
            model, username, password, enforce=enforce_authentication, directory=directory
        )
        self.web = AdminWeb(model, self.access, self._primary_answers)
        self._api = ApiRoutes(model)
        self._control = ControlRoutes(model, self.log)

    def _primary_answers(self) -> dict[str, object]:
        uri = self.model.read_state(lambda s: node_uri(s, PRIMARY))
        return self.model.node_answers(uri) if uri else {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._respond(request)
        response.headers["Strict-Transport-Security"] = HSTS
        if (
            request.method in WRITE_METHODS
            and response.status_code < 400
            and _listened(request.path)
            and self.after_write
        ):
            self.after_write()
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path
        ignored: list[str] = []
        try:
            if path == "/_sim" or path.startswith("/_sim/"):
                if not self.access.local_admin(request.headers.get("Authorization", "")):
                    raise Unauthorized()
                response = self._control.handle(request)
                if path.rstrip("/") == "/_sim/reset":
                    self.web.clear()
                return response
            refused = self.web.host_refused(request)
            if refused is not None:
                response = refused
            elif _is_admin_web(path):
                response = self.web.handle(request)
            else:
                self.access.identify(
                    request.headers.get("Authorization", ""),
                    request.environ.get("SSL_CLIENT_CERT"),
                )
                response = self._api.handle(request, self.base_url, ignored)
        except ApiError as error:
            response = error_response(error)
        if path.startswith("/api/") or _is_admin_web(path):
            query = request.query_string.decode("utf-8", "replace")
            self.log.record(request.method, path, query, response.status_code, ignored)
        return response


# What the node listeners read of the model (``listeners``): the nodes (addresses, SNMP), the
# authentication settings and trusted CAs (client certificates), the certificates they serve.
LISTENED = ("management_vm", "worker_vm", "authentication", "ca_certificate", "tls_certificate")


def _listened(path: str) -> bool:
    """Whether a write to ``path`` can change what the node listeners serve."""
    if path == "/_sim" or path.startswith("/_sim/"):
        return True
    parts = path.strip("/").split("/")  # api/admin/<api>/v1/<resource or group>/...
    if len(parts) < 5 or parts[:2] != ["api", "admin"]:
        return False
    return parts[2] == "command" or parts[4] in LISTENED  # a command imports certificates


def _is_admin_web(path: str) -> bool:
    """The Administrator interface's own paths (``adminweb``)."""
    return path == "/admin" or path.startswith("/admin/")


def _file_label(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "simulator"


def _port(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"{what} must be a port number in 1..65535, not {value!r}")
    return value


class ManagementNodeSimulator(Service):
    """A simulated Pexip Infinity Management Node serving its API over HTTPS.

    Public attributes (``url`` and the others but ``model`` are set by ``start()``):

    - ``url``: the API's base URL, ``https://<host>:<port>/``; ``host`` and ``port`` are its
      parts.
    - ``ca_file``: a PEM file a client trusts to verify the API. Without node listeners, the
      per-start CA of the listener's certificate (valid for ``127.0.0.1``, ``localhost`` and
      ``host``). With them, the Management Node's SHIPPED temporary self-signed certificate:
      the trust anchor a client needs before a CA-signed certificate is assigned (the same for
      the life of the process: resets and clock moves keep it valid).
    - ``server_name``: the name to verify the API's certificate against. With node listeners,
      the Management Node's FQDN (``hostname.domain`` at start): its certificates name the
      FQDN while clients connect by address. Without, ``host``.
    - ``address_map``: ``{"<seed /24>": "<loopback /24>"}``, e.g. ``{"192.0.2.0/24":
      "127.31.7.0/24"}``: node ``192.0.2.N`` listens on ``127.31.7.N``. Empty without node
      listeners.
    - ``port_map``: ``{443: https_port, 22: ssh_port, 161: snmp_port}`` (the real ports of the
      stand-in ones; SIP keeps 5060 and 5061); empty without node listeners.
    - ``model``: the live state (thread-safe), for in-process helpers such as
      ``model.raise_alarm``; after changing nodes or certificates in-process, call
      ``sync_listeners()``.

    ``node_listeners=True`` (see ``listeners`` and ``nodetls``): every node listens on
    loopback, the primary Management Node's HTTPS listener serving the API (``host`` and
    ``port`` arguments are then unused); Conferencing Nodes serve a web page on ``https_port``
    and SIP on the security wizard's ports; SSH (while the wizard leaves the system
    administrator account enabled) on ``ssh_port``; SNMP on ``snmp_port``. Every listener
    serves its node's assigned certificate and
    chain, chosen at each handshake.

    ``enforce_authentication=True`` follows the authentication settings (LDAP users through
    ``directory``, client certificates, local login switched off; ``access``); the default
    accepts only ``username``/``password``, whatever the settings say. ``ldap_resolve`` (the
    simulators' DNS for LDAP servers, ``directory.Resolve``) makes ``directory`` a real LDAP
    client (``directory.Directory``) trusting the node's trusted CA list.

    ``sync_delay``: seconds before a certificate change reaches
    the listeners (the real platform takes about a minute; tests use 0, the next handshake).
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
        node_listeners: bool = False,
        sync_delay: float = 0.0,
        https_port: int = 8443,
        ssh_port: int = 2222,
        snmp_port: int = 1161,
        enforce_authentication: bool = False,
        directory: DirectoryLike | None = None,
        ldap_resolve: Resolve | None = None,
    ) -> None:
        if isinstance(sync_delay, bool) or not isinstance(sync_delay, int | float):
            raise ValueError(f"sync_delay must be a number of seconds, not {sync_delay!r}")
        if not (math.isfinite(sync_delay) and sync_delay >= 0):
            raise ValueError(f"sync_delay must be a finite number >= 0, not {sync_delay!r}")
        if node_listeners:
            ports = {"https_port": https_port, "ssh_port": ssh_port, "snmp_port": snmp_port}
            for what, value in ports.items():
                _port(value, what)
            if https_port == ssh_port:
                raise ValueError("https_port and ssh_port must differ")
            if {https_port, ssh_port} & {5060, 5061}:
                raise ValueError("https_port and ssh_port must differ from SIP's 5060 and 5061")
        self.name = name
        self.host = host
        self.port = port
        self.workdir = Path(workdir)
        self.model = PexipModel(seed or Seed())
        if directory is None and ldap_resolve is not None:
            directory = Directory(ldap_resolve, self._trusted_cas)
        self.app = SimulatorApp(
            self.model,
            username,
            password,
            enforce_authentication=enforce_authentication,
            directory=directory,
        )
        self.ca_file = self.workdir / f"{_file_label(name)}-ca.pem"
        self.url = ""
        self.server_name = ""
        self.address_map: dict[str, str] = {}
        self.port_map: dict[int, int] = {}
        self.node_listeners = node_listeners
        self.sync_delay = float(sync_delay)
        self.https_port = https_port
        self.ssh_port = ssh_port
        self.snmp_port = snmp_port
        self._serving: Serving | None = None
        self._network: NodeNetwork | None = None

    def _trusted_cas(self) -> list[str]:
        """The node's trusted CA list (PEM each): all its LDAP client trusts."""
        return self.model.read_state(
            lambda s: [row["certificate"] for row in s.table(CA_CERTIFICATE).rows.values()]
        )

    @property
    def seed(self) -> Seed:
        """The factory-fresh deployment this simulator resets to."""
        return self.model.seed

    @property
    def network(self) -> NodeNetwork | None:
        """The node listeners while started with ``node_listeners``, else None."""
        return self._network

    def start(self) -> ManagementNodeSimulator:
        """Generate or choose TLS material, bind and serve in daemon threads; return once
        listening.

        Raises ``OSError`` (one line) if the listeners cannot be bound, ``RuntimeError`` if
        already started.
        """
        if self._serving is not None or self._network is not None:
            raise RuntimeError(f"simulator {self.name!r} is already running")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.node_listeners:
            self._start_network()
        else:
            self._start_single()
        self.url = https_url(self.host, self.port)
        self.app.base_url = self.url
        return self

    def _start_single(self) -> None:
        credentials = make_credentials(self.name, self.host)
        self.ca_file.write_bytes(credentials.ca_pem)
        self._serving = listen_https(
            self.host,
            self.port,
            self.app,
            server_context(credentials),
            who=f"simulator {self.name!r}",
            name=f"pexip-sim-{self.name}",
        )
        self.port = self._serving.server.port  # type: ignore[attr-defined]
        self.server_name = self.host

    def _start_network(self) -> None:
        certificate = shipped_certificate(self.seed, 0, self.model.now())["certificate"]
        assert isinstance(certificate, str)
        self.ca_file.write_text(certificate, encoding="ascii")
        network = NodeNetwork(
            self.model,
            self.app,
            label=self.name,
            sync_delay=self.sync_delay,
            https_port=self.https_port,
            ssh_port=self.ssh_port,
            snmp_port=self.snmp_port,
        )
        network.start()
        row = self.model.read_state(lambda state: node_row(state, PRIMARY))
        self.server_name = node_fqdn(row) if row is not None else ""
        self.host, self.port = network.api_host, self.https_port
        self.address_map, self.port_map = network.address_map, network.port_map
        self._network = network
        self.app.after_write = network.sync

    def sync_listeners(self) -> None:
        """Make the node listeners follow in-process model changes (nodes created, deleted or
        re-addressed; certificate changes are picked up at each handshake anyway). A no-op
        without node listeners or before ``start()``."""
        if self._network is not None:
            self._network.sync()

    def stop(self) -> None:
        """Stop serving and close every listener (idempotent)."""
        serving, network = self._serving, self._network
        self._serving = self._network = None
        self.app.after_write = None
        if network is not None:
            network.close()
        if serving is not None:
            serving.close()
