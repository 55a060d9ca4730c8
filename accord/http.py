"""HTTPS to the systems' APIs: one origin, one deadline, one budget, and one-line errors.

Every API client (the Management Node's, the appliance simulator's) talks through an
`ApiSession`, which cannot be led astray:

- Only the configured origin (``https``, host, port) is ever asked. A redirect is followed only
  when it stays there (GET and HEAD, at most `MAX_REDIRECTS`); one to another host, port or to
  plain HTTP is an `UnexpectedAnswer`. A link from an answer (``meta.next``, a resource URI)
  is resolved with `ApiSession.resolve`, which refuses another origin the same way.
- Credentials go only to that origin: the Basic authorization is added per request, and only
  to a request for the configured origin.
- Certificates are always verified (the site's CA bundle, or the system's trust store), with
  ``verify=`` on every request: this machine's REQUESTS_CA_BUNDLE would otherwise override
  ``Session.verify``. ``server_name`` checks the certificate against a name other than the URL's
  host (a node reached by address or through a tunnel).
- One deadline for the whole request (`Limits.deadline`: connecting, the handshake, the headers
  and the whole body). requests has only per-socket-operation timeouts, so a watchdog thread
  shuts the request's socket down when its deadline passes: a server that answers a byte at
  a time is cut off there, wherever it is. One budget per run (`RunBudget`): once spent, every
  request fails at once. An answer larger than `Limits.max_bytes` is refused as it arrives.
- Whatever goes wrong is a `ClientError`: one line naming the system, the method and the URL
  and what went wrong (``pexip-primary: GET https://…/system_location/: not JSON (text/html)``),
  scrubbed of every secret by value (`accord.evidence.secrecy`), raised ``from None`` so that
  no traceback of the HTTP stack (whose frames hold the request's headers) comes with it.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import math
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, Unpack
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from accord.evidence import secrecy
from accord.site import Secret, Verification

MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 65536
_RETRY_ABORT = 0.02  # seconds between attempts to cut a connection whose socket is not ready


# -- errors --------------------------------------------------------------------------------


class ClientError(Exception):
    """A request to a system gave no answer Accord can use. ``str()`` is one line:
    ``<system>: <METHOD> <url>: <reason>``, with every known secret scrubbed."""

    separator = ": "  # an API's refusal: " -> " before its status

    def __init__(self, system: str, method: str, url: str, reason: str) -> None:
        self.system = system
        self.method = method
        self.url = url
        self.reason = secrecy.scrub(" ".join(reason.split()))
        line = f"{system}: {method} {url}{self.separator}{self.reason}"
        super().__init__(secrecy.scrub(line))


class TransportError(ClientError):
    """The system could not be reached, refused the TLS handshake, or dropped the answer."""


class DeadlineExceeded(TransportError):
    """The request did not complete within the site's ``request_deadline``."""


class BudgetSpent(ClientError):
    """The run's ``run_budget`` was spent before this request: it was not sent."""


class UnexpectedAnswer(ClientError):
    """An answer that is not what the API promises: a redirect or a link off the configured
    origin, not JSON, the wrong shape or types, too large. Never evidence of anything."""


# -- limits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How long one request may take in all, to connect, and how large its answer may be."""

    deadline: float = 60.0
    connect_timeout: float = 10.0
    max_bytes: int = 64 * 2**20

    @classmethod
    def of(cls, verification: Verification) -> Limits:
        """The limits a site's ``[verification]`` section sets."""
        return cls(
            deadline=verification.request_deadline,
            connect_timeout=verification.connect_timeout,
            max_bytes=verification.response_limit * 2**20,
        )


class RunBudget:
    """The seconds a run may spend asking systems, from when it was made (``None``: no limit).
    One per run, shared by every client of the run."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self._ends = math.inf if seconds is None else time.monotonic() + seconds

    @classmethod
    def of(cls, verification: Verification) -> RunBudget:
        return cls(verification.run_budget)

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def spent(self) -> bool:
        return self.remaining() <= 0


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
        record.msg, record.args = secrecy.scrub(text), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


for _logger in ("urllib3.connection", "urllib3.connectionpool", "urllib3.response"):
    logging.getLogger(_logger).addFilter(_OneLine())


# -- the watchdog: one deadline for a whole request ------------------------------------------


class _Guard:
    """One request in flight: the connection urllib3 chose for it, and whether its deadline
    has cut it off."""

    def __init__(self, ends: float) -> None:
        self.ends = ends
        self.connection: Any = None
        self.fired = False
        self.active = True

    def abort(self) -> bool:
        """Shut the connection's socket down (any blocked read or write returns at once);
        True when there was no socket to shut yet (try again shortly)."""
        self.fired = True
        sock = getattr(self.connection, "sock", None)
        if not isinstance(sock, socket.socket):
            return True
        try:
            # socket.socket's own shutdown: SSLSocket's would also drop its TLS state under
            # the reading thread's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            return True  # not connected yet, or detached while TLS wraps it
        return False


class _Watchdog:
    """One daemon thread that cuts off every request whose deadline has passed."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: list[tuple[float, int, _Guard]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, guard: _Guard) -> None:
        with self._condition:
            heapq.heappush(self._due, (guard.ends, next(self._order), guard))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="accord-deadline")
                self._thread.daemon = True
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                while self._due and (self._due[0][0] <= now or not self._due[0][2].active):
                    _, _, guard = heapq.heappop(self._due)
                    if guard.active and guard.abort():
                        heapq.heappush(self._due, (now + _RETRY_ABORT, next(self._order), guard))
                wait = self._due[0][0] - now if self._due else None
                self._condition.wait(wait)

    def reset(self) -> None:
        """After a fork: the thread is gone, and the lock may be held by it."""
        self._condition = threading.Condition()
        self._due = []
        self._thread = None


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()  # .guard: the request this thread is making
os.register_at_fork(after_in_child=_WATCHDOG.reset)


@contextmanager
def deadline(seconds: float) -> Iterator[_Guard]:
    """Inside, the connection this thread's call registers (`watch_connection`; requests
    through an `ApiSession` always do) is shut down once ``seconds`` have passed: the call then
    fails at once, and ``guard.fired`` says why."""
    guard = _Guard(time.monotonic() + seconds)
    _WATCHDOG.watch(guard)
    previous = getattr(_CURRENT, "guard", None)
    _CURRENT.guard = guard
    try:
        yield guard
    finally:
        guard.active = False
        _CURRENT.guard = previous


def watch_connection(connection: Any) -> None:
    """The connection (anything with a ``sock``) that carries this thread's call under
    `deadline`."""
    guard = getattr(_CURRENT, "guard", None)
    if guard is not None:
        guard.connection = connection


def _guarded(pool: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    class Guarded(pool):  # type: ignore[valid-type,misc]
        """Tells the request's guard which connection carries it (new or reused)."""

        def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            watch_connection(conn)
            return super()._make_request(conn, *args, **kwargs)

    Guarded.__name__ = f"Guarded{pool.__name__}"
    return Guarded


_POOLS = {"http": _guarded(HTTPConnectionPool), "https": _guarded(HTTPSConnectionPool)}


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
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class _OriginAuth(AuthBase):
    """HTTP Basic credentials, added only to a request for the configured origin."""

    def __init__(self, origin: Origin, username: str, password: Secret) -> None:
        self._origin = origin
        self._username = username
        self._password = password
        secrecy.remember_credentials(username, password.reveal())

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


def json_type(value: Any) -> str:
    """What a JSON value is, in JSON's words (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


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
            raise spent(self.system, method, where, self.budget)
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

    def _body(self, response: requests.Response, method: str, where: str, guard: _Guard) -> bytes:
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


def late(system: str, method: str, where: str, allowed: float, spent: bool) -> DeadlineExceeded:
    """The error of a request its deadline cut off (``spent``: the run's budget ended it)."""
    setting = "run_budget: the run's budget is spent" if spent else "request_deadline"
    return DeadlineExceeded(
        system, method, where, f"no complete answer within {allowed:.3g} s ({setting})"
    )


def spent(system: str, method: str, where: str, budget: RunBudget) -> BudgetSpent:
    """The error of a request not sent: the run's budget is spent."""
    return BudgetSpent(
        system,
        method,
        where,
        f"the run's budget of {budget.seconds:g} s ([verification] run_budget) is spent: not sent",
    )


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


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """An exception and everything it wraps (causes, contexts, urllib3's reasons)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped += [a for a in current.args if isinstance(a, BaseException)]
        todo += [w for w in wrapped if isinstance(w, BaseException)]


def describe(exc: BaseException) -> str:
    """What failed, in a few words, from an exception of the HTTP stack (never its arguments,
    which hold the request's headers)."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS: the certificate is not trusted: {cause.verify_message or cause.reason}"
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return f"TLS: {cause.reason or cause.strerror or type(cause).__name__}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "no connection within the connect timeout ([verification] connect_timeout)"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no answer within the deadline ([verification] request_deadline)"
    for cause in causes:
        if isinstance(cause, TimeoutError):
            return "no answer in time (timed out)"
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot connect: {cause.strerror}"
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return "the answer was cut short or cannot be decoded"
    for cause in causes:
        name = type(cause).__name__
        if name in ("RemoteDisconnected", "ProtocolError", "IncompleteRead", "BadStatusLine"):
            return f"the connection was dropped ({name})"
    return f"the request failed ({type(exc).__name__})"
