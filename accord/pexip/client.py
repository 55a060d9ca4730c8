"""A client for the Pexip Infinity management API (configuration and status).

The same client reaches a real Management Node and the simulator: paths, list shape
(``{"meta": ..., "objects": [...]}``), ``resource_uri`` references and error bodies are the real
API's (see ``../shared/pexip-api.md``). A client made with ``read_only=True`` refuses every write
before it reaches the wire: verification uses only such clients.

It trusts nothing it has not checked. Requests go through `accord.http.ApiSession` (one origin,
no redirect away from it, credentials to it only, certificates verified, one deadline per
request, the run's budget). Every answer read is checked against what the API promises: JSON,
the list envelope, pagination links that stay on the origin and never repeat, no object listed
twice, as many objects as ``meta.total_count`` says, and every field Accord reads present and of
its type (`accord.pexip.schema`). Whatever fails is one `accord.http.ClientError` line naming the
system, the method and the URL: never a traceback, never data to pass on.

Errors every operation may raise: `PexipApiError` (the node refused: 4xx/5xx),
`accord.http.UnexpectedAnswer` (an answer that is not what the API promises),
`accord.http.TransportError` / `DeadlineExceeded` (unreachable, TLS refused, too slow),
`accord.http.BudgetSpent`; writes through a read-only client: `ReadOnlyError` (nothing sent).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Unpack
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from accord.http import (
    Answer,
    ApiClient,
    ClientError,
    ClientOptions,
    UnexpectedAnswer,
    json_type,
    shown,
)
from accord.pexip import schema
from accord.secrets import Secret

API = "/api/admin/"
CONFIG = "configuration/v1"
STATUS = "status/v1"
# Objects asked for per page. Real Management Nodes are said to serve up to 10 000 per request
# (secondhand: ../shared/pexip-api-reference.md); a list of up to this many is one request
# however many nodes a deployment has, and a longer one follows ``meta.next``.
PAGE = 5000
MAX_PAGES = 2000  # ten million objects: more is a server that pages forever


class PexipApiError(ClientError):
    """The Management Node refused a request: status code, and the field errors when it gave any.

    The message names the system, the request and the reasons; request bodies are never part of
    it, so a secret that was being written cannot leak through an error, and a body that is not
    the API's error shape (an HTML page) is described, never quoted.
    """

    separator = " -> "

    def __init__(
        self, method: str, path: str, status: int, body: Any, system: str = "pexip", url: str = ""
    ) -> None:
        self.path = path
        self.status = status
        self.body = body
        super().__init__(system, method, url or path, f"{status}: {_reasons(body)}")

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """``{"field": ["message", ...]}`` from the real error shape ``{"<resource>": {...}}``."""
        if isinstance(self.body, dict):
            for value in self.body.values():
                if isinstance(value, dict):
                    return {str(k): [str(m) for m in _messages(v)] for k, v in value.items()}
        return {}


class ReadOnlyError(RuntimeError):
    """A write was attempted through a verification (read-only) client."""


def _messages(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _reasons(body: Any) -> str:
    if isinstance(body, dict):
        if "error" in body:
            return str(body["error"])[:300]
        parts = []
        for resource, fields in body.items():
            if isinstance(fields, dict):
                for field, messages in fields.items():
                    text = " ".join(map(str, _messages(messages)))
                    parts.append(f"{resource}.{field}: {text}")
        if parts:
            return "; ".join(parts)[:600]
    if isinstance(body, str):
        return body  # the answer's description (not JSON)
    return f"a JSON {json_type(body)}"


def _plain(value: Any) -> Any:
    """Secrets are revealed only here, at the moment a write is sent."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class PexipClient(ApiClient):
    """Reads (and, unless read-only, writes) one Management Node's management API.

    ``system`` names it in messages (``pexip-primary``); ``limits`` and ``budget`` are the
    site's (`accord.http.Limits.of`, one `accord.http.RunBudget` per run);
    ``client_certificate`` ``(certificate, key)`` is presented when the node asks for one (the
    node then identifies the administrator by it alone); ``remember_reads``: each path is read
    once, and so is each failure (a read-only client only).
    """

    read_only_error = ReadOnlyError
    default_system = "pexip"

    def __init__(
        self,
        url: str,
        username: str,
        password: Secret,
        *,
        remember_reads: bool = False,
        **options: Unpack[ClientOptions],
    ) -> None:
        if remember_reads and not options.get("read_only", True):
            raise ValueError("only a read-only client may answer reads from memory")
        super().__init__(url, username, password, **options)
        self._remembered: dict[str, Any] | None = {} if remember_reads else None
        self.sent: Counter[str] = Counter()  # requests sent, by method ("refused": never sent)

    def __repr__(self) -> str:
        return f"PexipClient({self.system!r}, {self.base!r}, read_only={self.read_only!r})"

    @property
    def presents_certificate(self) -> bool:
        """Whether this client presents a client certificate when asked for one."""
        return self._api.client_certificate is not None

    # -- paths -------------------------------------------------------------------------------

    @staticmethod
    def uri(resource: str, key: int | str | None = None, api: str = CONFIG) -> str:
        """The resource URI (as the API writes it) of a list or of one object."""
        path = f"{API}{api}/{resource}/"
        return path if key is None else f"{path}{key}/"

    def _request(self, method: str, path: str, **kwargs: Any) -> Answer:
        refused = self.read_only and method not in ("GET", "HEAD")
        self.sent["refused" if refused else method] += 1
        return self._send(method, path, **kwargs)

    def _refusal(self, answer: Answer) -> PexipApiError:
        path = urlsplit(answer.url).path
        return PexipApiError(
            answer.method, path, answer.status, _error_body(answer), self.system, answer.url
        )

    # -- reads -------------------------------------------------------------------------------

    def _read(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[Answer, Any]:
        """GET ``path``: the answer and its JSON object (from memory when this client remembers
        reads: a failure too, so that a broken resource costs one deadline per run, not one per
        step)."""
        if self._remembered is None:
            return self._fetch(path, params)
        key = path if not params else f"{path}?{sorted(params.items())}"
        if key not in self._remembered:
            try:
                self._remembered[key] = self._fetch(path, params)
            except ClientError as exc:
                self._remembered[key] = exc
        found = self._remembered[key]
        if isinstance(found, ClientError):
            raise found.with_traceback(None)
        answer, body = found
        return answer, copy.deepcopy(body)

    def _fetch(self, path: str, params: Mapping[str, Any] | None) -> tuple[Answer, Any]:
        answer = self._request("GET", path, params=params)
        return answer, answer.object()

    def get(self, resource_uri: str) -> dict[str, Any]:
        """One object by its resource URI, checked against `accord.pexip.schema`."""
        answer, body = self._read(resource_uri)
        _checked(answer, schema.resource_of(urlsplit(resource_uri).path), body)
        return body  # type: ignore[no-any-return]

    def get_one(self, resource: str, key: int | str = 1, api: str = CONFIG) -> dict[str, Any]:
        """One object by resource name and id (singletons live at id 1)."""
        return self.get(self.uri(resource, key, api))

    def iter_list(
        self, resource: str, api: str = CONFIG, **filters: str
    ) -> Iterator[dict[str, Any]]:
        """Every object of a list, page by page, following ``meta.next`` (on this origin only,
        never twice), each checked against `accord.pexip.schema`; at the end, as many objects
        as ``meta.total_count`` says, none twice."""
        params: dict[str, Any] | None = {"limit": PAGE, "offset": 0, **filters}
        path: str | None = self.uri(resource, api=api)
        kind = (api.split("/")[0], resource)
        pages = {_page(urljoin(self.base, f"{path}?{urlencode(params)}"))}
        seen: set[str] = set()
        count, total = 0, None
        answer = None
        while path is not None:
            answer, page = self._read(path, params)
            meta, objects = _envelope(answer, page)
            total = meta.get("total_count")
            for obj in objects:
                _checked(answer, kind, obj, f"objects[{count}]")
                uri = obj.get("resource_uri")
                if uri in seen:
                    raise answer.fail(f"objects[{count}]: {uri} listed twice")
                seen.add(uri)
                count += 1
                yield obj
            path, params = meta.get("next") or None, None  # `next` has its own query string
            if path is None:
                break
            following = urljoin(self.base, path)
            if not self._api.same_origin(following):
                raise answer.fail(
                    f"meta.next leads to another origin ({shown(following)}): Accord asks only "
                    "the configured one"
                )
            if _page(following) in pages:
                raise answer.fail(f"meta.next leads back to a page already read: {path}")
            if not objects:
                raise answer.fail("an empty page whose meta.next leads to another")
            if len(pages) >= MAX_PAGES:
                raise answer.fail(f"more than {MAX_PAGES} pages")
            pages.add(_page(following))
        if total is not None and total != count and answer is not None:
            raise answer.fail(f"{count} objects listed, but meta.total_count says {total}")

    def list(self, resource: str, api: str = CONFIG, **filters: str) -> list[dict[str, Any]]:
        """Every object of a list (one request per `PAGE` objects)."""
        return list(self.iter_list(resource, api, **filters))

    def list_singleton(self, resource: str) -> list[dict[str, Any]]:
        """A singleton's list (``global``, ``authentication``): its one object, or
        `UnexpectedAnswer` when it lists none or several."""
        found = self.list(resource)
        if len(found) != 1:
            url = shown(urljoin(self.base, f"{self.uri(resource)}?limit={PAGE}&offset=0"))
            raise UnexpectedAnswer(
                self.system, "GET", url, f"{len(found)} objects, where the API promises one"
            )
        return found

    # -- writes (the deployer's) ---------------------------------------------------------------

    def create(self, resource: str, fields: Mapping[str, Any]) -> str:
        """POST a new object; returns its resource URI (from the Location header)."""
        body = {key: _plain(value) for key, value in fields.items()}
        answer = self._request("POST", self.uri(resource), json=body)
        location = answer.headers.get("Location")
        if not location:
            raise answer.fail("no Location header for the object created")
        return urlsplit(self._api.resolve("POST", location)).path

    def update(self, resource_uri: str, fields: Mapping[str, Any]) -> None:
        """PATCH some fields of one object."""
        body = {key: _plain(value) for key, value in fields.items()}
        self._request("PATCH", resource_uri, json=body)

    def delete(self, resource_uri: str) -> None:
        self._request("DELETE", resource_uri)

    def command(self, group: str, name: str, fields: Mapping[str, Any]) -> Any:
        """POST a command (``command/v1/<group>/<name>/``); returns its JSON answer."""
        body = {key: _plain(value) for key, value in fields.items()}
        answer = self._request("POST", f"{API}command/v1/{group}/{name}/", json=body)
        return answer.json() if answer.content else None

    def fetch_file(
        self, method: str, path: str, fields: Mapping[str, Any] | None = None
    ) -> tuple[str, bytes]:
        """A file the server hands out (``Content-Disposition``): its name and bytes.

        Any method but GET is a write as far as a read-only client is concerned.
        """
        body = None if fields is None else {key: _plain(v) for key, v in fields.items()}
        answer = self._request(method, path, json=body)
        disposition = answer.headers.get("Content-Disposition", "")
        name = disposition.partition("filename=")[2].strip().strip('"')
        return name, answer.content


def _page(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """A page's URL as compared for loops: its query's parameters in any order."""
    parts = urlsplit(url)
    return parts.netloc.lower(), parts.path, tuple(sorted(parse_qsl(parts.query)))


def _error_body(answer: Answer) -> Any:
    """A refusal's body: the API's JSON error, or a description of what came instead (an
    error page is never quoted: it may echo the request)."""
    if answer.content_type == "application/json":
        try:
            return answer.json()
        except ClientError:
            pass
    reason = answer.reason or "refused"
    return f"{reason} ({answer.content_type or 'no Content-Type'}, {len(answer.content)} bytes)"


def _envelope(answer: Answer, page: Any) -> tuple[dict[str, Any], list[Any]]:
    """``meta`` and ``objects`` of a list page, as the API promises them."""
    meta, objects = page.get("meta"), page.get("objects")
    if not isinstance(meta, dict):
        raise answer.fail(f"meta: {json_type(meta)}, where the API promises an object")
    if not isinstance(objects, list):
        raise answer.fail(f"objects: {json_type(objects)}, where the API promises a list")
    following = meta.get("next")
    if following is not None and not isinstance(following, str):
        raise answer.fail(f"meta.next: {json_type(following)}, where the API promises a link")
    total = meta.get("total_count")
    if total is not None and (not isinstance(total, int) or isinstance(total, bool)):
        raise answer.fail(f"meta.total_count: {json_type(total)}, where the API promises a number")
    return meta, objects


def _checked(answer: Answer, kind: tuple[str, str] | None, obj: Any, where: str = "") -> None:
    try:
        schema.check(kind, obj, where)
    except schema.Problem as problem:
        raise answer.fail(str(problem)) from None
