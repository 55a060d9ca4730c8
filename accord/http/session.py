"""Sessions to one system's API: `ApiSession` (requests that cannot be led astray, read in full
within the deadline) and `ApiClient` (what the API clients build on)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, Unpack
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict

from accord import secrets
from accord.http.deadline import POOLS, Guard, Limits, RunBudget, deadline
from accord.http.errors import (
    ClientError,
    DeadlineExceeded,
    TransportError,
    UnexpectedAnswer,
    describe,
    json_type,
    late,
    spent,
)
from accord.secrets import Secret

MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 65536


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def origin_of(url: str) -> Origin:
    """Scheme, host (lower case) and port of a URL (the scheme's default port when none)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"https": 443, "http": 80}.get(scheme, -1)
    return Origin(scheme, (parts.hostname or "").lower(), port or default)


def shown(url: str) -> str:
    """A URL as messages show it: no user information, at most 200 characters."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    text = parts.geturl()
    return text if len(text) <= 200 else text[:197] + "..."


class _OneLine(logging.Filter):
    """urllib3's log records in one line, scrubbed: no traceback (its frames hold the request's
    headers), the exception's type named instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            text += f" ({record.exc_info[0].__name__})"
        record.msg, record.args = secrets.scrub(text), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


for _logger in ("urllib3.connection", "urllib3.connectionpool", "urllib3.response"):
    logging.getLogger(_logger).addFilter(_OneLine())


class _Adapter(HTTPAdapter):
    """Guarded connection pools; with ``server_name``, every connection presents and verifies
    that name (urllib3's ``server_hostname``) whatever host the URL names."""

    def __init__(self, server_name: str | None = None) -> None:
        self._server_name = server_name
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._server_name:
            kwargs["server_hostname"] = self._server_name
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = POOLS
        return manager


class _OriginAuth(AuthBase):
    """HTTP Basic credentials, added only to a request for the configured origin."""

    def __init__(self, origin: Origin, username: str, password: Secret) -> None:
        self._origin = origin
        self._username = username
        self._password = password
        secrets.remember_credentials(username, password.reveal())

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if origin_of(str(request.url)) == self._origin:
            basic = requests.auth.HTTPBasicAuth(self._username, self._password.reveal())
            return basic(request)
        return request


def session(server_name: str | None = None) -> requests.Session:
    """A plain `requests.Session` (``server_name`` as `ApiSession`'s), for the simulators'
    control planes, which tests and the ``sim`` target reach on loopback."""
    result = requests.Session()
    result.mount("https://", _Adapter(server_name))
    return result


# -- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A complete answer: status, headers and the whole body (read within the deadline)."""

    system: str
    method: str
    url: str  # as shown in messages
    status: int
    reason: str
    headers: CaseInsensitiveDict[str]
    content: bytes

    def fail(self, reason: str) -> UnexpectedAnswer:
        """The error saying this answer is not what the API promises."""
        return UnexpectedAnswer(self.system, self.method, self.url, reason)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; `UnexpectedAnswer` when it is not JSON (by its Content-Type or
        its text), not UTF-8, or holds NaN or Infinity."""
        kind = self.content_type
        if kind != "application/json" and not kind.endswith("+json"):
            raise self.fail(f"not JSON ({kind or 'no Content-Type'}, {len(self.content)} bytes)")
        try:
            text = self.content.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("not JSON (not UTF-8)") from None
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            where = (
                f"{exc.msg}, line {exc.lineno} column {exc.colno}" if hasattr(exc, "msg") else exc
            )
            raise self.fail(f"not JSON ({where})") from None

    def object(self) -> dict[str, Any]:
        """The body as a JSON object (`UnexpectedAnswer` for anything else)."""
        value = self.json()
        if not isinstance(value, dict):
            raise self.fail(f"not a JSON object (a {json_type(value)})")
        return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# -- the session ---------------------------------------------------------------------------


class ApiSession:
    """Requests to one system's API at one origin (see the module's docstring).

    ``system`` names it in every message (``pexip-primary``); ``base_url`` is the configured
    origin and path; ``password`` (with ``username``) is sent as HTTP Basic to that origin only;
    ``client_certificate`` ``(certificate, key)`` is presented when the server asks for one.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        username: str | None = None,
        password: Secret | None = None,
        ca_bundle: Path | None = None,
        server_name: str | None = None,
        client_certificate: tuple[Path, Path] | None = None,
        limits: Limits | None = None,
        budget: RunBudget | None = None,
    ) -> None:
        self.system = system
        self.base = base_url.rstrip("/") + "/"
        self.origin = origin_of(self.base)
        if self.origin.scheme != "https" or not self.origin.host:
            raise ValueError(f"{system}: {shown(base_url)} is not an https:// URL")
        self.limits = limits or Limits()
        self.budget = budget or RunBudget()
        self._session = requests.Session()
        self._session.mount("https://", _Adapter(server_name))
        self._session.mount("http://", _Adapter())
        self._session.headers["Accept"] = "application/json"
        if password is not None:
            self._session.auth = _OriginAuth(self.origin, username or "", password)
        self.client_certificate = client_certificate
        if client_certificate is not None:
            self._session.cert = (str(client_certificate[0]), str(client_certificate[1]))
        # Never False: certificate verification is always on.
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True

    def close(self) -> None:
        self._session.close()

    def same_origin(self, url: str) -> bool:
        """Whether an absolute URL is on the configured origin."""
        return origin_of(url) == self.origin

    def resolve(self, method: str, target: str) -> str:
        """An absolute URL for a path or a link (relative to the base); `UnexpectedAnswer` when
        it leaves the configured origin."""
        url = urljoin(self.base, target)
        if origin_of(url) != self.origin:
            raise UnexpectedAnswer(
                self.system,
                method,
                shown(url),
                f"a link to another origin than {self.origin.scheme}://{self.origin.host}:"
                f"{self.origin.port}: Accord asks only the configured one",
            )
        return url

    def request(
        self,
        method: str,
        target: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Answer:
        """Send a request and read its whole answer within the deadline; same-origin redirects
        of a GET are followed. Raises `BudgetSpent`, `DeadlineExceeded`, `TransportError`,
        `UnexpectedAnswer` (a redirect elsewhere, a body over the limit)."""
        url = self.resolve(method, target)
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        for _hop in range(MAX_REDIRECTS + 1):
            answer = self._once(method, url, params, json, shown(url + query))
            if answer.status not in REDIRECTS:
                return answer
            location = answer.headers.get("Location", "")
            target_url = urljoin(url, location)
            if method not in ("GET", "HEAD") or origin_of(target_url) != self.origin:
                raise answer.fail(
                    f"redirected ({answer.status}) to {shown(target_url) or 'nowhere'}: Accord "
                    "follows no redirect away from the configured origin"
                )
            url, params, query = target_url, None, ""
        raise answer.fail(f"more than {MAX_REDIRECTS} redirects")

    def _once(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: Any, where: str
    ) -> Answer:
        remaining = min(self.limits.deadline, self.budget.remaining())
        if remaining <= 0:
            raise spent(self.system, method, where, self.budget.seconds)
        with deadline(remaining) as guard:
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    timeout=(min(self.limits.connect_timeout, remaining), remaining),
                    verify=self._verify,
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    content = self._body(response, method, where, guard)
                finally:
                    response.close()
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                if guard.fired:
                    raise self._late(method, where, remaining) from None
                raise TransportError(self.system, method, where, describe(exc)) from None
        if guard.fired:  # the socket was shut: what was read may be cut short
            raise self._late(method, where, remaining)
        return Answer(
            self.system,
            method,
            where,
            response.status_code,
            response.reason or "",
            response.headers,
            content,
        )

    def _late(self, method: str, where: str, allowed: float) -> DeadlineExceeded:
        budget = self.budget.remaining() <= 0
        return late(self.system, method, where, allowed, budget)

    def _body(self, response: requests.Response, method: str, where: str, guard: Guard) -> bytes:
        limit = self.limits.max_bytes
        declared = response.headers.get("Content-Length", "")
        too_large = f"an answer larger than {limit // 2**20} MiB ([verification] response_limit)"
        if declared.isdigit() and int(declared) > limit:
            raise UnexpectedAnswer(self.system, method, where, too_large)
        chunks, size = [], 0
        for chunk in _chunks(response):
            size += len(chunk)
            if size > limit:
                raise UnexpectedAnswer(self.system, method, where, too_large)
            chunks.append(chunk)
            if guard.fired:
                break
        return b"".join(chunks)


class ClientOptions(TypedDict, total=False):
    """How an `ApiClient` reaches its system (`ApiSession`'s), whether it may write, and the
    name messages give it."""

    ca_bundle: Path | None
    server_name: str | None
    client_certificate: tuple[Path, Path] | None
    read_only: bool
    system: str
    limits: Limits | None
    budget: RunBudget | None


class ApiClient:
    """What the API clients share: an `ApiSession` to one system (``system`` names it in every
    message: ``default_system`` when not given), writes refused before the wire by a read-only
    client (``read_only_error``), a refusal (4xx, 5xx) turned into the client's own error by
    `_refusal`, and any other answer but 2xx an `UnexpectedAnswer`."""

    read_only_error: type[Exception] = PermissionError
    default_system = "api"

    def __init__(
        self, url: str, username: str, password: Secret, **options: Unpack[ClientOptions]
    ) -> None:
        self.system = options.get("system") or self.default_system
        self.read_only = options.get("read_only", True)
        self._api = ApiSession(
            self.system,
            url,
            username=username,
            password=password,
            ca_bundle=options.get("ca_bundle"),
            server_name=options.get("server_name"),
            client_certificate=options.get("client_certificate"),
            limits=options.get("limits"),
            budget=options.get("budget"),
        )
        self.base = self._api.base

    def close(self) -> None:
        self._api.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        if self.read_only and method not in ("GET", "HEAD"):
            raise self.read_only_error(f"verification never writes: refused {method} {path}")
        answer = self._api.request(method, path, **kwargs)
        if answer.status >= 400:
            raise self._refusal(answer)
        if not 200 <= answer.status < 300:
            raise answer.fail(f"answered {answer.status} {answer.reason}".strip())
        return answer

    def _refusal(self, answer: Answer) -> ClientError:
        return answer.fail(f"refused: {answer.status} {answer.reason}")


def _chunks(response: requests.Response) -> Iterator[bytes]:
    yield from response.iter_content(_CHUNK)
