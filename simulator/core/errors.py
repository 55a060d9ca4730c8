"""The typed errors a simulated API answers with: the base and the kinds every API has.

Each error knows its HTTP status, its JSON body and its extra headers, so a routing layer only
serialises it (`simulator.core.web.error_response`); nothing else is turned into a response,
and nothing is ever a 5xx. The body's shape is the vendor's: ``ApiError.body`` is the flat
``{"error": "<message>"}``; a vendor whose API says it otherwise overrides ``body`` in its own
base, and makes its kinds of error from that base and these (``class NotFound(NotFound,
VendorError)``), so that catching its base catches all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ApiError(Exception):
    """Base of every error a simulator answers with (400 unless a subclass says otherwise)."""

    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body of the response: ``{"error": "<message>"}``."""
        return {"error": self.message}

    def headers(self) -> dict[str, str]:
        """Extra response headers (none by default)."""
        return {}


class Unauthorized(ApiError):
    """401 with ``WWW-Authenticate: Basic realm="<realm>"``: missing or wrong credentials.

    A vendor's class names its ``realm`` and its ``default_message``."""

    status = 401
    realm = "simulator"
    default_message = "Authentication credentials are missing or wrong."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(self.default_message if message is None else message)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}


class NotFound(ApiError):
    """404: an unknown path, resource or object."""

    status = 404


class MethodNotAllowed(ApiError):
    """405 with an ``Allow`` header listing the methods the endpoint accepts (in the given
    order, or sorted where a vendor's class sets ``sort_allowed``)."""

    status = 405
    sort_allowed = False

    def __init__(self, method: str, allowed: Iterable[str], where: str) -> None:
        upper = [m.upper() for m in allowed]
        self.allowed = sorted(upper) if self.sort_allowed else upper
        super().__init__(
            f"Method {method} is not allowed on {where}; allowed: {', '.join(self.allowed)}."
        )

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class PayloadTooLarge(ApiError):
    """413: a request body above the simulator's size limit."""

    status = 413
