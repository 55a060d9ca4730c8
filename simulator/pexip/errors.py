"""Typed errors of the simulated Management Node API.

Each error knows its HTTP status and the JSON body the real API answers with, so the routing
layer only has to serialise it. The model raises these; nothing else is turned into a response.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class ApiError(Exception):
    """Base of every error the simulator answers with (never a 5xx)."""

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


class Unauthorized(ApiError):
    """401 for missing or wrong HTTP Basic credentials."""

    status = 401

    def __init__(
        self, message: str = "Authentication credentials were not provided or are invalid."
    ) -> None:
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="Pexip Infinity"'}


class NotFound(ApiError):
    """404 for an unknown path, resource or object id."""

    status = 404


class MethodNotAllowed(ApiError):
    """405 with an ``Allow`` header listing the methods the endpoint accepts."""

    status = 405

    def __init__(self, method: str, allowed: Iterable[str], what: str) -> None:
        self.allowed = [m.upper() for m in allowed]
        super().__init__(
            f"Method {method} is not allowed on {what}; allowed: {', '.join(self.allowed)}."
        )

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class PayloadTooLarge(ApiError):
    """413 for a request body above the simulator's size limit."""

    status = 413
