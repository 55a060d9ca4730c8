"""The simulator's JSON API over a ``Site``: OUR OWN API, not BeyondTrust's (the real appliance
has none); paths and fields are named after the /appliance Security > Certificates page.

Paths (a trailing slash is optional; ``<name>`` is an appliance's name in the site):

- ``GET /api/appliances`` → ``{"appliances": [appliance, ...]}``; ``GET /api/appliances/<name>``
  → ``{"appliance": {"name", "hostname", "role", "cloud", "listener": {"host", "port"} |
  null}}``.
- ``GET .../<name>/certificates`` → ``{"certificates": [row, ...], "default": id}`` (rows as
  ``store.Certificate.as_json``).
- ``POST .../<name>/certificates/self-signed`` with the Create form (``fields``) → 201
  ``{"certificate": row}``.
- ``POST .../<name>/certificates/import``: multipart ``file`` (+ ``password``), or JSON
  ``{"data": "<base64>", "password": "...", "filename": "..."}`` → 200
  ``{"added", "key_added", "unchanged", "linked_requests"}``.
- ``POST .../<name>/certificates/export`` with ``{"ids": [...], "include_certificate": true,
  "include_private_key": false, "include_chain": false, "passphrase": "..."}`` → the file
  (``Content-Type`` and ``Content-Disposition: attachment; filename=...``).
- ``GET .../<name>/certificates/support-bundle`` (``?id=N``; default: the default certificate)
  → ``support-certificates.zip``.
- ``GET .../<name>/certificates/default`` → ``{"certificate": row}``; ``PUT`` ``{"id": N}`` →
  the same for the new default.
- ``GET .../<name>/certificates/select?server_name=NAME`` (no parameter: no SNI) → ``{"certificate":
  row}``: what the listener serves for that name.
- ``GET``/``DELETE .../<name>/certificates/<id>`` → ``{"certificate": row}`` / 204.
- ``GET``/``POST .../<name>/requests`` (Create form) → ``{"requests": [...]}`` / 201
  ``{"request": ...}``; ``GET``/``DELETE .../<name>/requests/<id>`` → ``{"request": ...}``
  (``request_data`` is the PEM CSR; never the key) / 204.

Errors: ``{"error": {"field": ..., "message": ...}}`` with 400 (validation, malformed JSON),
404 (path, appliance, id), 405 (method, with ``Allow``), 409 (refused by the store's state),
413 (body above ``MAX_BODY``). Bodies, passphrases and passwords are never echoed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from simulator.beyondtrust.errors import (
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from simulator.beyondtrust.exports import ExportFile
from simulator.beyondtrust.models import Appliance, Site
from simulator.core.web import json_response, parse_json

__all__ = [
    "MAX_BODY",
    "ApiRoutes",
    "parse_json_object",
    "raw_body",
]

MAX_BODY = 4 * 1024 * 1024
ListenerOf = Callable[[str], tuple[str, int] | None]
_BASE = "/api/appliances/<name>"
URLS = Map(
    [
        Rule("/api/appliances", endpoint="appliances"),
        Rule(_BASE, endpoint="appliance"),
        Rule(f"{_BASE}/certificates", endpoint="certificates"),
        Rule(f"{_BASE}/certificates/self-signed", endpoint="self_signed"),
        Rule(f"{_BASE}/certificates/import", endpoint="import"),
        Rule(f"{_BASE}/certificates/export", endpoint="export"),
        Rule(f"{_BASE}/certificates/support-bundle", endpoint="bundle"),
        Rule(f"{_BASE}/certificates/default", endpoint="default"),
        Rule(f"{_BASE}/certificates/select", endpoint="select"),
        Rule(f"{_BASE}/certificates/<int:item>", endpoint="certificate"),
        Rule(f"{_BASE}/requests", endpoint="requests"),
        Rule(f"{_BASE}/requests/<int:item>", endpoint="request"),
    ],
    strict_slashes=False,
    merge_slashes=False,
    redirect_defaults=False,
)
METHODS = {
    "appliances": ("GET",),
    "appliance": ("GET",),
    "certificates": ("GET",),
    "self_signed": ("POST",),
    "import": ("POST",),
    "export": ("POST",),
    "bundle": ("GET",),
    "default": ("GET", "PUT"),
    "select": ("GET",),
    "certificate": ("GET", "DELETE"),
    "requests": ("GET", "POST"),
    "request": ("GET", "DELETE"),
}
EXPORT_FIELDS = (
    "ids",
    "include_certificate",
    "include_private_key",
    "include_chain",
    "passphrase",
)


def file_response(export: ExportFile) -> Response:
    headers = Headers()
    headers.set("Content-Disposition", "attachment", filename=export.filename)
    return Response(export.data, content_type=export.content_type, headers=headers)


def raw_body(request: Request) -> bytes:
    """The request body (at most ``MAX_BODY`` bytes: ``PayloadTooLarge`` beyond)."""
    request.max_content_length = MAX_BODY
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"the request body is larger than {MAX_BODY} bytes") from None


def parse_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; ``ValidationError`` if it is not one (never echoing it)."""
    raw = raw_body(request)
    try:
        body = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValidationError("malformed JSON in the request body: not UTF-8") from None
    except RecursionError:
        raise ValidationError("malformed JSON in the request body: nested too deeply") from None
    except ValueError as error:
        raise ValidationError(f"malformed JSON in the request body: {error}") from None
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object")
    return body


def _flag(body: Mapping[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ValidationError("must be true or false", name)
    return value


def _optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError("must be text", name)
    return value or None


def _import_upload(request: Request) -> tuple[bytes, str | None]:
    """(file bytes, password) from a multipart form or a JSON body."""
    if request.mimetype == "multipart/form-data":
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        try:
            upload = request.files.get("file")
            password = request.form.get("password") or None
        except RequestEntityTooLarge:
            raise PayloadTooLarge(f"the request body is larger than {MAX_BODY} bytes") from None
        except HTTPException:
            raise ValidationError("malformed multipart form data") from None
        if upload is None:
            raise ValidationError("is required (the certificate file to upload)", "file")
        return upload.read(), password
    body = parse_json_object(request)
    unknown = sorted(k for k in body if k not in ("data", "password", "filename"))
    if unknown:
        raise ValidationError("unknown field (known: data, password, filename)", unknown[0])
    data = body.get("data")
    if not isinstance(data, str) or not data:
        raise ValidationError("is required: the file's bytes in base64", "data")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("is not valid base64", "data") from None
    _optional_text(body, "filename")
    return raw, _optional_text(body, "password")


class ApiRoutes:
    """The ``/api/`` endpoints over one ``Site`` (see module doc)."""

    def __init__(self, site: Site, listener_of: ListenerOf = lambda _name: None) -> None:
        self.site = site
        self.listener_of = listener_of

    def appliance_json(self, appliance: Appliance) -> dict[str, Any]:
        address = self.listener_of(appliance.name)
        return {
            "name": appliance.name,
            "hostname": appliance.hostname,
            "role": appliance.role,
            "cloud": appliance.cloud,
            "listener": {"host": address[0], "port": address[1]} if address else None,
        }

    def handle(self, request: Request) -> Response:
        """Answer one API request; raises ``BtError`` for every failure."""
        path = request.path.rstrip("/") or "/"
        try:
            endpoint, args = URLS.bind("localhost").match(path)
        except HTTPException:
            raise NotFound(f"not found: {request.path}") from None
        if request.method not in METHODS[endpoint]:
            raise MethodNotAllowed(request.method, METHODS[endpoint], request.path)
        if endpoint == "appliances":
            return json_response({"appliances": [self.appliance_json(a) for a in self.site]})
        appliance = self.site.get(args["name"])
        handler = getattr(self, f"_{endpoint}")
        response: Response = handler(request, appliance, args.get("item"))
        return response

    def _appliance(self, _request: Request, appliance: Appliance, _item: None) -> Response:
        return json_response({"appliance": self.appliance_json(appliance)})

    def _certificates(self, _request: Request, appliance: Appliance, _item: None) -> Response:
        rows = appliance.certificates()
        default = next(r.id for r in rows if r.default)
        return json_response({"certificates": [r.as_json() for r in rows], "default": default})

    def _self_signed(self, request: Request, appliance: Appliance, _item: None) -> Response:
        body = parse_json_object(request)
        row = appliance.create_self_signed(body)
        return json_response({"certificate": row.as_json()}, 201)

    def _import(self, request: Request, appliance: Appliance, _item: None) -> Response:
        data, password = _import_upload(request)
        return json_response(appliance.import_file(data, password).as_json())

    def _export(self, request: Request, appliance: Appliance, _item: None) -> Response:
        body = parse_json_object(request)
        unknown = sorted(k for k in body if k not in EXPORT_FIELDS)
        if unknown:
            raise ValidationError(f"unknown field (known: {', '.join(EXPORT_FIELDS)})", unknown[0])
        ids = body.get("ids")
        if not isinstance(ids, list):
            raise ValidationError("must be a list of certificate ids", "ids")
        export = appliance.export(
            ids,
            include_certificate=_flag(body, "include_certificate", True),
            include_private_key=_flag(body, "include_private_key", False),
            include_chain=_flag(body, "include_chain", False),
            passphrase=_optional_text(body, "passphrase"),
        )
        return file_response(export)

    def _bundle(self, request: Request, appliance: Appliance, _item: None) -> Response:
        value = request.args.get("id")
        if value is not None and not value.isdigit():
            raise ValidationError("must be a certificate id (an integer)", "id")
        return file_response(appliance.support_bundle(int(value) if value else None))

    def _default(self, request: Request, appliance: Appliance, _item: None) -> Response:
        if request.method == "GET":
            return json_response({"certificate": appliance.default().as_json()})
        body = parse_json_object(request)
        unknown = sorted(k for k in body if k != "id")
        if unknown:
            raise ValidationError("unknown field (known: id)", unknown[0])
        if "id" not in body:
            raise ValidationError("is required", "id")
        return json_response({"certificate": appliance.set_default(body["id"]).as_json()})

    def _select(self, request: Request, appliance: Appliance, _item: None) -> Response:
        row = appliance.select_certificate(request.args.get("server_name") or None)
        return json_response({"certificate": row.as_json()})

    def _certificate(self, request: Request, appliance: Appliance, item: int) -> Response:
        if request.method == "DELETE":
            appliance.delete(item)
            return Response(status=204)
        return json_response({"certificate": appliance.certificate(item).as_json()})

    def _requests(self, request: Request, appliance: Appliance, _item: None) -> Response:
        if request.method == "GET":
            return json_response({"requests": [r.as_json() for r in appliance.requests()]})
        created = appliance.create_request(parse_json_object(request))
        return json_response({"request": created.as_json()}, 201)

    def _request(self, request: Request, appliance: Appliance, item: int) -> Response:
        if request.method == "DELETE":
            appliance.delete_request(item)
            return Response(status=204)
        return json_response({"request": appliance.request(item).as_json()})
