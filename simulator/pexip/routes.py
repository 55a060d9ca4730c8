"""Thin werkzeug routing for ``/api/admin/``: parse the request, call the model, answer JSON.

Endpoints: ``<api>/v1/`` (resource index), ``<api>/v1/<resource>/`` (list: GET, POST),
``<api>/v1/<resource>/schema/`` (tastypie schema), ``<api>/v1/<resource>/<key>/`` (detail:
GET, PATCH, PUT, DELETE) for ``<api>`` = ``configuration`` or ``status``; and
``command/v1/<group>/<command>/`` (POST only; only ``platform/certificates_import/`` exists:
200 with the command API's ``{"status": "success", "message", "result"}``).

Checks run in this order: path (404), method (405), body (400 malformed JSON), then the model
(404 unknown id, 400 validation). A path without its trailing slash is a 404 (INFERRED: Django
would redirect a GET to the slashed URL; refusing keeps clients honest about the slash).
POST answers 201 with an empty body and an absolute ``Location`` (the real ``worker_vm`` POST
also returns the node's bootstrap configuration; the simulator does not). A PATCH answers 202
with an empty body; completing a CSR adds a ``Location`` naming the TLS certificate it produced
(INFERRED).

Writes ignore the fields a resource does not know and its read-only fields, as the real
(tastypie) API does; ``handle`` hands their names to the caller for the request log.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from simulator.core.web import json_response, parse_json
from simulator.pexip import query
from simulator.pexip.errors import BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge
from simulator.pexip.models import PexipModel
from simulator.pexip.resourcedef import ResourceDef
from simulator.pexip.resources import index

MAX_BODY = 8 * 1024 * 1024
COMMANDS = {("platform", "certificates_import")}
_API = "<any(configuration, status):api>"
URLS = Map(
    [
        Rule(f"/api/admin/{_API}/v1/", endpoint="index"),
        Rule(f"/api/admin/{_API}/v1/<resource>/", endpoint="list"),
        Rule(f"/api/admin/{_API}/v1/<resource>/schema/", endpoint="schema"),
        Rule(f"/api/admin/{_API}/v1/<resource>/<key>/", endpoint="detail"),
        Rule("/api/admin/command/v1/<group>/<command>/", endpoint="command"),
    ],
    strict_slashes=False,
    merge_slashes=False,
    redirect_defaults=False,
)


def parse_json_body(request: Request) -> Any:
    """The request body as JSON. ``BadRequest`` ("Malformed JSON in request body: ...") if it
    is not UTF-8 JSON, ``PayloadTooLarge`` above ``MAX_BODY``. Never echoes the body."""
    request.max_content_length = MAX_BODY
    try:
        raw = request.get_data(cache=False)
    except HTTPException:
        raise PayloadTooLarge(f"Request body larger than {MAX_BODY} bytes.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("Malformed JSON in request body: not valid UTF-8") from None
    try:
        return parse_json(text)
    except RecursionError:
        raise BadRequest("Malformed JSON in request body: nested too deeply") from None
    except ValueError as error:
        raise BadRequest(f"Malformed JSON in request body: {error}") from None


class ApiRoutes:
    """The ``/api/admin/`` endpoints over one ``PexipModel``."""

    def __init__(self, model: PexipModel) -> None:
        self.model = model

    def handle(self, request: Request, base_url: str, ignored: list[str] | None = None) -> Response:
        """Answer one API request; raises ``ApiError`` for every failure. The fields a write
        ignored (``hydrate``) are added to ``ignored``."""
        if not request.path.endswith("/"):
            raise NotFound(f"Not found: {request.path} (API paths end with a slash).")
        try:
            endpoint, args = URLS.bind_to_environ(request.environ).match()
        except HTTPException:
            raise NotFound(f"Not found: {request.path}") from None
        method = request.method
        if endpoint == "command":
            if (args["group"], args["command"]) not in COMMANDS:
                raise NotFound(f"Not found: {request.path}")
            if method != "POST":
                raise MethodNotAllowed(method, ["POST"], request.path)
            body = parse_json_body(request)
            return json_response(self.model.command(args["group"], args["command"], body))
        if endpoint == "index":
            if method != "GET":
                raise MethodNotAllowed(method, ["GET"], request.path)
            return json_response(index(args["api"]))
        rdef = self.model.resource(args["api"], args["resource"])
        if endpoint == "schema":
            if method != "GET":
                raise MethodNotAllowed(method, ["GET"], rdef.schema_uri)
            return json_response(rdef.schema())
        if endpoint == "list":
            return self._list(request, rdef, base_url, ignored)
        return self._detail(request, rdef, args["key"], base_url, ignored)

    def _list(
        self, request: Request, rdef: ResourceDef, base_url: str, ignored: list[str] | None
    ) -> Response:
        method = request.method
        self.model.check_method(rdef, method, detail=False)
        if method == "POST":
            uri = self.model.create(rdef, parse_json_body(request), ignored)
            response = Response(status=201)
            response.headers["Location"] = base_url.rstrip("/") + uri
            return response
        params = list(request.args.items(multi=True))
        parsed = query.parse(rdef, params)
        objects = query.apply(parsed, self.model.list_objects(rdef))
        return json_response(query.envelope(request.path, params, parsed, objects))

    def _detail(
        self,
        request: Request,
        rdef: ResourceDef,
        key: str,
        base_url: str,
        ignored: list[str] | None,
    ) -> Response:
        method = request.method
        self.model.check_method(rdef, method, detail=True)
        if method == "GET":
            return json_response(self.model.get_object(rdef, key))
        if method == "DELETE":
            self.model.delete(rdef, key)
            return Response(status=204)
        body = parse_json_body(request)
        produced = self.model.update(rdef, key, body, partial=method == "PATCH", ignored=ignored)
        response = Response(status=202)
        if produced:
            response.headers["Location"] = base_url.rstrip("/") + produced
        return response
