"""The private control plane under ``/_sim/`` (never on the real API's paths).

- ``POST /_sim/reset``: back to the factory-fresh seed and clear the request log → 204.
- ``GET /_sim/state``: JSON snapshot of the whole state; ``PUT /_sim/state`` restores one
  → 204 (400 ``{"error": ...}`` and no change if malformed). Restoring keeps the request log.
  A snapshot holds key material (TLS certificate and CSR private keys, unencrypted) and the
  clock offset: it is for tests, never evidence.
- ``GET /_sim/requests``: ``{"total", "writes", "requests": [{"method", "path", "query",
  "status"}]}`` for every ``/api/`` request since the last reset or clear (no bodies, no
  headers); a write that sent fields the resource ignored (unknown to it, or read-only and not
  as read: ``hydrate``) also has ``"ignored": [<field names>]``, which is how Accord's tests
  hold Accord's clients to the real schema. ``DELETE /_sim/requests`` clears it → 204.
- ``GET /_sim/clock``: ``{"now": "<time>", "offset_seconds": N}`` of the simulated clock;
  ``PUT``/``POST`` ``{"advance_days": N}`` (N may be fractional or negative) or
  ``{"now": "<ISO 8601 time>"}`` moves it and answers the new clock (400 otherwise). Alarms
  and certificate expiry use it; a reset restores real time; a snapshot carries the offset.
- The admin UI's certificate file actions, which the real API does not have (INFERRED, our
  own routes, here so that no client mistakes them for the Management Node's API):
  ``GET /_sim/ui/ca_certificate/export`` → ``ca-certificates.pem`` with every custom trusted
  CA certificate; ``POST /_sim/ui/tls_certificate/download`` with ``{"certificates":
  [<tls_certificate URIs>], "format": "pem"|"pkcs12", "include_chain": true,
  "include_private_key": false, "passphrase": ""}`` → ``<subject_name>_certificate`` or
  ``_keycert`` (``all_certificates`` / ``all_keycerts`` for several) ``.pem`` or ``.pfx``,
  named in ``Content-Disposition``. A private key needs a passphrase (it encrypts the key or
  the PKCS#12 file); temporary (self-signed) certificates cannot be downloaded; errors are 400
  ``{"download": {"<field>": [...]}}``. Bodies and passphrases are never logged.
  ``GET /_sim/ui/certificate_signing_request/<id>/download`` → the CSR's PEM as
  ``<subject_name>.csr`` (the guide's "Download" on the Change Certificate signing request page;
  never the private key; content type ``application/pkcs10``), 404 for an unknown id.
- ``GET /_sim/faults``: ``{"active": [names], "available": {name: description}}`` of the fault
  injections (``faults``), each breaking one guide behaviour on purpose so that tests can show
  an "act" scenario fails when the product misbehaves; ``PUT /_sim/faults`` with ``{"active":
  [names]}`` sets them (``[]`` clears them) and answers like GET (400 naming an unknown fault,
  nothing changed). Faults are not state: ``/_sim/reset`` and ``PUT /_sim/state`` keep them and
  snapshots leave them out; only PUT changes them. The TLS-15 faults change the factory state:
  they show after the next reset.
- ``GET /_sim/security_wizard``: ``{"completed", "answers", "nodes": {<node uri>: answers}}``
  (``wizard``): the console security wizard, which has no API on a real Management Node.
  ``PUT`` ``{"answers": {...}}`` runs the wizard (some or all answers; completes it; every node
  follows); ``PATCH`` ``{"nodes": {<node uri>: {...}}}`` makes single nodes differ. Both answer
  like GET, or 400 ``{"security_wizard": {"<answer>": [...]}}`` with nothing changed.
A trailing slash is optional here. ``/_sim/`` requests are not logged.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from werkzeug.wrappers import Request, Response

from simulator.core.web import json_response
from simulator.pexip.certificates import Download
from simulator.pexip.errors import MethodNotAllowed, NotFound
from simulator.pexip.models import PexipModel
from simulator.pexip.routes import parse_json_body

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXPORT = "/_sim/ui/ca_certificate/export"
DOWNLOAD = "/_sim/ui/tls_certificate/download"
CSR_DOWNLOAD = re.compile(r"/_sim/ui/certificate_signing_request/([^/]+)/download")
FAULTS = "/_sim/faults"
WIZARD = "/_sim/security_wizard"


def file_response(download: Download) -> Response:
    """A file download: its bytes, content type and ``Content-Disposition`` file name."""
    response = Response(download.data, status=200, mimetype=download.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


class RequestLog:
    """Method, path, query and status of each request to the API (``/api/``) and to the
    Administrator interface (``/admin/``), thread-safe; ``/_sim/`` is not the system's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(
        self, method: str, path: str, query: str, status: int, ignored: list[str] | None = None
    ) -> None:
        """Append one request; ``ignored``: the fields a write ignored (kept only if any)."""
        entry: dict[str, Any] = {"method": method, "path": path, "query": query, "status": status}
        if ignored:
            entry["ignored"] = list(ignored)
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._entries.clear()

    def summary(self) -> dict[str, Any]:
        """``{"total": N, "writes": W, "web": {"POST /admin/login/": n, ...}, "requests":
        [...]}``; writes: POST/PUT/PATCH/DELETE to the API (configuration and commands); web:
        the Administrator interface's requests (logins, logouts, pages), by method and path."""
        with self._lock:
            entries = [dict(e) for e in self._entries]
        writes = sum(
            1 for e in entries if e["method"] in WRITE_METHODS and e["path"].startswith("/api/")
        )
        web: dict[str, int] = {}
        for entry in entries:
            if not entry["path"].startswith("/api/"):
                key = f"{entry['method']} {entry['path']}"
                web[key] = web.get(key, 0) + 1
        return {"total": len(entries), "writes": writes, "web": web, "requests": entries}


class ControlRoutes:
    """Handlers of ``/_sim/`` over a model and a request log."""

    def __init__(self, model: PexipModel, log: RequestLog) -> None:
        self.model = model
        self.log = log

    def handle(self, request: Request) -> Response:
        """Answer one control request; raises ``NotFound``/``MethodNotAllowed``/``BadRequest``."""
        path = request.path.rstrip("/")
        method = request.method
        allowed = {"/_sim/reset": ["POST"], "/_sim/state": ["GET", "PUT"]}
        allowed["/_sim/requests"] = ["GET", "DELETE"]
        allowed["/_sim/clock"] = ["GET", "PUT", "POST"]
        allowed[EXPORT] = ["GET"]
        allowed[DOWNLOAD] = ["POST"]
        allowed[FAULTS] = ["GET", "PUT"]
        allowed[WIZARD] = ["GET", "PUT", "PATCH"]
        csr = CSR_DOWNLOAD.fullmatch(path)
        if csr is not None:
            if method != "GET":
                raise MethodNotAllowed(method, ["GET"], path)
            return file_response(self.model.download_csr(csr.group(1)))
        if path not in allowed:
            raise NotFound(f"Not found: {request.path}")
        if method not in allowed[path]:
            raise MethodNotAllowed(method, allowed[path], path)
        if path == "/_sim/reset":
            self.model.reset()
            self.log.clear()
            return Response(status=204)
        if path == "/_sim/clock":
            if method == "GET":
                return json_response(self.model.clock_state())
            return json_response(self.model.set_clock(parse_json_body(request)))
        if path == FAULTS:
            if method == "GET":
                return json_response(self.model.faults.describe())
            return json_response(self.model.faults.set(parse_json_body(request)))
        if path == WIZARD:
            if method == "GET":
                return json_response(self.model.security_wizard())
            if method == "PUT":
                return json_response(self.model.run_security_wizard(parse_json_body(request)))
            return json_response(self.model.diverge_security_wizard(parse_json_body(request)))
        if path == EXPORT:
            return file_response(self.model.export_ca_certificates())
        if path == DOWNLOAD:
            return file_response(self.model.download_certificates(parse_json_body(request)))
        if path == "/_sim/state":
            if method == "GET":
                return json_response(self.model.snapshot())
            self.model.restore(parse_json_body(request))
            return Response(status=204)
        if method == "GET":
            return json_response(self.log.summary())
        self.log.clear()
        return Response(status=204)
