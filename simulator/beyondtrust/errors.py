"""Typed errors of the simulated appliance's certificate store and of its JSON API.

Every error names the field it is about (``None`` when it concerns the request or the store as
a whole) and the reason, and knows its HTTP status; the routing layer only serialises it as
``{"error": {"field": ..., "message": ...}}``. Messages never carry key material, passphrases or
uploaded file contents: they name what was wrong, not what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "BtError",
    "Conflict",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "ValidationError",
]


class BtError(Exception):
    """Base of every error the simulator answers with (never a 5xx).

    ``field``: the request field at fault (``"country"``, ``"alternative_names"``, ``"file"``,
    ...), or ``None``. ``str(error)`` is ``"<field>: <message>"`` (just the message without a
    field).
    """

    status: int = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        """The JSON body of the response: ``{"error": {"field": ..., "message": ...}}``."""
        return {"error": {"field": self.field, "message": self.message}}

    def headers(self) -> dict[str, str]:
        """Extra response headers (none by default)."""
        return {}


class ValidationError(BtError):
    """400: a field is missing, of the wrong type or refused (bad country code, wildcard CN,
    unreadable certificate file, wrong PKCS#12 password...). Nothing was changed."""

    status = 400


class Conflict(BtError):
    """409: the request is well formed but the store's state refuses it (the factory
    certificate or the default cannot be deleted, a cloud site cannot create a self-signed
    certificate, a certificate without a private key cannot be the default)."""

    status = 409


class NotFound(BtError):
    """404: unknown path, appliance, certificate or certificate request."""

    status = 404


class Unauthorized(BtError):
    """401: missing or wrong HTTP Basic credentials."""

    status = 401

    def __init__(self, message: str = "Authentication credentials are missing or wrong.") -> None:
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="BeyondTrust appliance simulator"'}


class MethodNotAllowed(BtError):
    """405 with an ``Allow`` header listing the methods the endpoint accepts."""

    status = 405

    def __init__(self, method: str, allowed: Iterable[str], path: str) -> None:
        self.allowed = sorted(m.upper() for m in allowed)
        super().__init__(
            f"Method {method} is not allowed on {path}; allowed: {', '.join(self.allowed)}."
        )

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class PayloadTooLarge(BtError):
    """413: the request body is above the simulator's size limit."""

    status = 413
