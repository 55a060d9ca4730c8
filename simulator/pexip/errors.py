"""Typed errors of the simulated Management Node API.

Each error knows its HTTP status and the JSON body the real API answers with (``{"error":
"<message>"}``, or the field-error shape of `ValidationError`), so the routing layer only has
to serialise it. The model raises these; nothing else is turned into a response. The base and
the kinds every simulated API has come from ``simulator.core.errors``; the realm and messages
here are the Management Node's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.core import errors as core
from simulator.core.errors import ApiError

__all__ = [
    "ApiError",
    "BadRequest",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "ValidationError",
]


class BadRequest(ApiError):
    """400 with a flat ``{"error": ...}`` body (bad query, malformed JSON, refused delete)."""

    status = 400


class ValidationError(ApiError):
    """400 with the real field-error shape ``{"<resource>": {"<field>": ["<message>", ...]}}``.

    ``errors`` collects every field error of one request.
    """

    status = 400

    def __init__(self, resource: str, errors: Mapping[str, Sequence[str]]) -> None:
        self.resource = resource
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__(f"{resource}: {self.errors}")

    def body(self) -> dict[str, Any]:
        return {self.resource: self.errors}


class Unauthorized(core.Unauthorized):
    """401 for missing or wrong HTTP Basic credentials."""

    realm = "Pexip Infinity"
    default_message = "Authentication credentials were not provided or are invalid."


class NotFound(core.NotFound):
    """404 for an unknown path, resource or object id."""


class MethodNotAllowed(core.MethodNotAllowed):
    """405 with an ``Allow`` header listing the methods the endpoint accepts, in their order."""


class PayloadTooLarge(core.PayloadTooLarge):
    """413 for a request body above the simulator's size limit."""
