"""JSON in and out for the simulators' routes: responses, error responses, JSON text.

Every simulated API answers JSON the same way (ASCII-escaped, so any string is safe to send)
and turns its typed errors (``simulator.core.errors``) into responses the same way. Reading a
request body stays with each vendor's routes: the size limit and the wording of a malformed
body are that API's.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from simulator.core.errors import ApiError


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response (ASCII-escaped, so any string is safe to send)."""
    return Response(json.dumps(body), status=status, mimetype="application/json")


def error_response(error: ApiError) -> Response:
    """The response for a typed error: its status, JSON body and headers."""
    response = json_response(error.body(), error.status)
    response.headers.update(error.headers())
    return response


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str) -> Any:
    """``text`` as strict JSON: ``NaN`` and ``Infinity`` are refused like any other malformed
    text (``ValueError``); ``RecursionError`` for nesting too deep."""
    return json.loads(text, parse_constant=_reject_constant)
