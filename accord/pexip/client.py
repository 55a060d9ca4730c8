"""A client for the Pexip Infinity management API (configuration and status).

The same client reaches a real Management Node and the simulator: paths, list shape
(``{"meta": ..., "objects": [...]}``), ``resource_uri`` references and error bodies are the real
API's (see ``../shared/pexip-api.md``). A client made with ``read_only=True`` refuses every write
before it reaches the wire: verification uses only such clients.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from accord.http import session
from accord.site import Secret

API = "/api/admin/"
CONFIG = "configuration/v1"
STATUS = "status/v1"
# Objects asked for per page. Real Management Nodes are said to serve up to 10 000 per request
# (secondhand: ../shared/pexip-api-reference.md); a list of up to this many is one request
# however many nodes a deployment has, and a longer one follows ``meta.next``.
PAGE = 5000


class PexipApiError(Exception):
    """The Management Node refused a request: status code, and the field errors when it gave any.

    The message names the request and the reasons; request bodies are never part of it, so a
    secret that was being written cannot leak through an error.
    """

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        super().__init__(f"{method} {path} -> {status}: {_reasons(body)}")

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """``{"field": ["message", ...]}`` from the real error shape ``{"<resource>": {...}}``."""
        if isinstance(self.body, dict):
            for value in self.body.values():
                if isinstance(value, dict):
                    return {str(k): list(v) for k, v in value.items()}
        return {}


class ReadOnlyError(RuntimeError):
    """A write was attempted through a verification (read-only) client."""


def _reasons(body: Any) -> str:
    if isinstance(body, dict):
        if "error" in body:
            return str(body["error"])
        parts = []
        for resource, fields in body.items():
            if isinstance(fields, dict):
                for field, messages in fields.items():
                    parts.append(f"{resource}.{field}: {' '.join(map(str, messages))}")
        if parts:
            return "; ".join(parts)
    return str(body)[:300]


def _plain(value: Any) -> Any:
    """Secrets are revealed only here, at the moment a write is sent."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class PexipClient:
    """Reads (and, unless read-only, writes) one Management Node's management API."""

    def __init__(
        self,
        url: str,
        username: str,
        password: Secret,
        *,
        ca_bundle: Path | None = None,
        server_name: str | None = None,
        read_only: bool = True,
        timeout: float = 15.0,
        client_certificate: tuple[Path, Path] | None = None,
        remember_reads: bool = False,
    ) -> None:
        if remember_reads and not read_only:
            raise ValueError("only a read-only client may answer reads from memory")
        self.base = url.rstrip("/") + "/"
        self.read_only = read_only
        self._remembered: dict[str, Any] | None = {} if remember_reads else None
        self.sent: Counter[str] = Counter()  # requests sent, by method ("refused": never sent)
        self.timeout = timeout
        self._session = session(server_name)
        self._session.auth = (username, password.reveal())
        # (certificate, key): presented when the node asks for one (client certificates
        # required); the node then identifies the administrator by it alone.
        if client_certificate is not None:
            self._session.cert = (str(client_certificate[0]), str(client_certificate[1]))
        # Per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE override that.
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True
        self._session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self._session.close()

    @property
    def presents_certificate(self) -> bool:
        """Whether this client presents a client certificate when asked for one."""
        return self._session.cert is not None

    # -- paths -------------------------------------------------------------------------------

    @staticmethod
    def uri(resource: str, key: int | str | None = None, api: str = CONFIG) -> str:
        """The resource URI (as the API writes it) of a list or of one object."""
        path = f"{API}{api}/{resource}/"
        return path if key is None else f"{path}{key}/"

    def _url(self, path: str) -> str:
        return urljoin(self.base, path)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self.read_only and method not in ("GET", "HEAD"):
            self.sent["refused"] += 1
            raise ReadOnlyError(f"verification never writes: refused {method} {path}")
        self.sent[method] += 1
        response = self._session.request(
            method, self._url(path), timeout=self.timeout, verify=self._verify, **kwargs
        )
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise PexipApiError(method, urlsplit(response.url).path, response.status_code, body)
        return response

    # -- reads -------------------------------------------------------------------------------

    def _read(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` as JSON (from memory when this client remembers reads)."""
        if self._remembered is None:
            return self._request("GET", path, params=params).json()
        key = path if not params else f"{path}?{sorted(params.items())}"
        if key not in self._remembered:
            self._remembered[key] = self._request("GET", path, params=params).json()
        return copy.deepcopy(self._remembered[key])

    def get(self, resource_uri: str) -> dict[str, Any]:
        """One object by its resource URI."""
        return self._read(resource_uri)  # type: ignore[no-any-return]

    def get_one(self, resource: str, key: int | str = 1, api: str = CONFIG) -> dict[str, Any]:
        """One object by resource name and id (singletons live at id 1)."""
        return self.get(self.uri(resource, key, api))

    def iter_list(
        self, resource: str, api: str = CONFIG, **filters: str
    ) -> Iterator[dict[str, Any]]:
        """Every object of a list, page by page, following ``meta.next``."""
        params: dict[str, Any] | None = {"limit": PAGE, "offset": 0, **filters}
        path: str | None = self.uri(resource, api=api)
        while path is not None:
            page = self._read(path, params)
            yield from page["objects"]
            path = page["meta"].get("next")
            params = None  # `next` carries its own query string

    def list(self, resource: str, api: str = CONFIG, **filters: str) -> list[dict[str, Any]]:
        """Every object of a list (one request per `PAGE` objects)."""
        return list(self.iter_list(resource, api, **filters))

    # -- writes (the deployer's) ---------------------------------------------------------------

    def create(self, resource: str, fields: Mapping[str, Any]) -> str:
        """POST a new object; returns its resource URI (from the Location header)."""
        body = {key: _plain(value) for key, value in fields.items()}
        response = self._request("POST", self.uri(resource), json=body)
        return urlsplit(response.headers["Location"]).path

    def update(self, resource_uri: str, fields: Mapping[str, Any]) -> None:
        """PATCH some fields of one object."""
        body = {key: _plain(value) for key, value in fields.items()}
        self._request("PATCH", resource_uri, json=body)

    def delete(self, resource_uri: str) -> None:
        self._request("DELETE", resource_uri)

    def command(self, group: str, name: str, fields: Mapping[str, Any]) -> Any:
        """POST a command (``command/v1/<group>/<name>/``); returns its JSON answer."""
        body = {key: _plain(value) for key, value in fields.items()}
        response = self._request("POST", f"{API}command/v1/{group}/{name}/", json=body)
        return response.json() if response.content else None

    def fetch_file(
        self, method: str, path: str, fields: Mapping[str, Any] | None = None
    ) -> tuple[str, bytes]:
        """A file the server hands out (``Content-Disposition``): its name and bytes.

        Any method but GET is a write as far as a read-only client is concerned.
        """
        body = None if fields is None else {key: _plain(v) for key, v in fields.items()}
        response = self._request(method, path, json=body)
        disposition = response.headers.get("Content-Disposition", "")
        name = disposition.partition("filename=")[2].strip().strip('"')
        return name, response.content
