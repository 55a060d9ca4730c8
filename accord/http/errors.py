"""What goes wrong asking a system, in one line: `ClientError` and its kinds.

``str()`` of each is ``<system>: <METHOD> <url>: <reason>`` (an API's refusal: ``<url> -> <status>:
<reason>``), scrubbed of every secret by value (`accord.secrets`). `describe` says what
failed of an exception of the HTTP stack in a few words, never with its arguments (urllib3's
hold the request's headers, the ``Authorization`` token among them).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import requests

from accord import secrets


class ClientError(Exception):
    """A request to a system gave no answer Accord can use. ``str()`` is one line:
    ``<system>: <METHOD> <url>: <reason>``, with every known secret scrubbed."""

    separator = ": "  # an API's refusal: " -> " before its status

    def __init__(self, system: str, method: str, url: str, reason: str) -> None:
        self.system = system
        self.method = method
        self.url = url
        self.reason = secrets.scrub(" ".join(reason.split()))
        line = f"{system}: {method} {url}{self.separator}{self.reason}"
        super().__init__(secrets.scrub(line))


class TransportError(ClientError):
    """The system could not be reached, refused the TLS handshake, or dropped the answer."""


class DeadlineExceeded(TransportError):
    """The request did not complete within the site's ``request_deadline``."""


class BudgetSpent(ClientError):
    """The run's ``run_budget`` was spent before this request: it was not sent."""


class UnexpectedAnswer(ClientError):
    """An answer that is not what the API promises: a redirect or a link off the configured
    origin, not JSON, the wrong shape or types, too large. Never evidence of anything."""


def late(system: str, method: str, where: str, allowed: float, spent: bool) -> DeadlineExceeded:
    """The error of a request its deadline cut off (``spent``: the run's budget ended it)."""
    setting = "run_budget: the run's budget is spent" if spent else "request_deadline"
    return DeadlineExceeded(
        system, method, where, f"no complete answer within {allowed:.3g} s ({setting})"
    )


def spent(system: str, method: str, where: str, budget: float | None) -> BudgetSpent:
    """The error of a request not sent: the run's budget (of ``budget`` seconds) is spent."""
    return BudgetSpent(
        system,
        method,
        where,
        f"the run's budget of {budget:g} s ([verification] run_budget) is spent: not sent",
    )


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
