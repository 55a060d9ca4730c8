"""Typed errors of the simulated appliance's certificate store and of its JSON API.

Every error names the field it is about (``None`` when it concerns the request or the store as
a whole) and the reason, and knows its HTTP status; the routing layer only serialises it as
``{"error": {"field": ..., "message": ...}}``. Messages never carry key material, passphrases or
uploaded file contents: they name what was wrong, not what was sent. The kinds every simulated
API has come from ``simulator.core.errors``, made in this API's shape by `BtError`.
"""

from __future__ import annotations

from typing import Any

from simulator.core import errors as core

__all__ = [
    "BtError",
    "Conflict",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "ValidationError",
]


class BtError(core.ApiError):
    """Base of every error the simulator answers with (never a 5xx).

    ``field``: the request field at fault (``"country"``, ``"alternative_names"``, ``"file"``,
    ...), or ``None``. ``str(error)`` is ``"<field>: <message>"`` (just the message without a
    field).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def body(self) -> dict[str, Any]:
        """The JSON body of the response: ``{"error": {"field": ..., "message": ...}}``."""
        return {"error": {"field": self.field, "message": self.message}}


class ValidationError(BtError):
    """400: a field is missing, of the wrong type or refused (bad country code, wildcard CN,
    unreadable certificate file, wrong PKCS#12 password...). Nothing was changed."""

    status = 400


class Conflict(BtError):
    """409: the request is well formed but the store's state refuses it (the factory
    certificate or the default cannot be deleted, a cloud site cannot create a self-signed
    certificate, a certificate without a private key cannot be the default)."""

    status = 409


class NotFound(core.NotFound, BtError):
    """404: unknown path, appliance, certificate or certificate request."""


class Unauthorized(core.Unauthorized, BtError):
    """401: missing or wrong HTTP Basic credentials."""

    realm = "BeyondTrust appliance simulator"
    default_message = "Authentication credentials are missing or wrong."


class MethodNotAllowed(core.MethodNotAllowed, BtError):
    """405 with an ``Allow`` header listing the methods the endpoint accepts (sorted)."""

    sort_allowed = True


class PayloadTooLarge(core.PayloadTooLarge, BtError):
    """413: the request body is above the simulator's size limit."""
