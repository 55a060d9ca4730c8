"""List queries: ``limit``/``offset`` pagination, filters and ordering, tastypie style.

``?limit=N&offset=M`` (default limit 20; ``limit=0`` returns everything — INFERRED tastypie
convention, with no maximum). ``?<field>=<value>`` filters by exact value and
``?<field>__icontains=<text>`` by case-insensitive substring (string fields only); values are
compared as strings for string fields, ``true``/``false`` (any case) for booleans and integers
for integer fields. Only plain fields filter: relations and secrets do not, and neither does
``resource_uri``. ``?order_by=<field>`` or ``-<field>`` sorts by a filterable field; ``format``
is accepted and ignored. Every problem is a ``BadRequest`` (400 ``{"error": ...}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from simulator.pexip.errors import BadRequest
from simulator.pexip.fields import BooleanField, IntegerField
from simulator.pexip.resourcedef import DEFAULT_LIMIT, ResourceDef

_INT = re.compile(r"-?[0-9]{1,18}")
_IGNORED = ("format",)


@dataclass(frozen=True)
class Filter:
    """One ``field[__lookup]=value`` condition, with the value already typed."""

    field: str
    lookup: str
    value: Any

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` satisfies this condition."""
        actual = obj.get(self.field)
        if self.lookup == "icontains":
            return isinstance(actual, str) and self.value.lower() in actual.lower()
        return type(actual) is type(self.value) and actual == self.value


@dataclass(frozen=True)
class ListQuery:
    """A parsed list query."""

    limit: int
    offset: int
    filters: tuple[Filter, ...]
    order_by: str | None


def _non_negative(name: str, text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise BadRequest(f"Invalid {name} '{text}' provided. Please provide a positive integer.")
    return int(text)


def _typed(rdef: ResourceDef, field: str, text: str) -> Any:
    spec = rdef.fields[field]
    if isinstance(spec, BooleanField):
        if text.lower() not in ("true", "false"):
            raise BadRequest(f"Invalid boolean value '{text}' for filter '{field}'.")
        return text.lower() == "true"
    if isinstance(spec, IntegerField):
        if not _INT.fullmatch(text):
            raise BadRequest(f"Invalid integer value '{text}' for filter '{field}'.")
        return int(text)
    return text


def parse(rdef: ResourceDef, params: Iterable[tuple[str, str]]) -> ListQuery:
    """Parse query parameters (the last value of a repeated parameter wins)."""
    args = dict(params)
    limit = _non_negative("limit", args.pop("limit", str(DEFAULT_LIMIT)))
    offset = _non_negative("offset", args.pop("offset", "0"))
    order_by = args.pop("order_by", None)
    if order_by is not None:
        spec = rdef.fields.get(order_by.removeprefix("-"))
        if spec is None or not spec.filterable:
            raise BadRequest(f"No matching '{order_by}' field for ordering on.")
    filters = []
    for name, text in args.items():
        if name in _IGNORED:
            continue
        field, _, lookup = name.partition("__")
        spec = rdef.fields.get(field)
        if spec is None or not spec.filterable:
            raise BadRequest(f"The '{field}' field does not allow filtering.")
        lookup = lookup or "exact"
        if lookup not in spec.lookups():
            raise BadRequest(f"Lookup '{lookup}' is not allowed on field '{field}'.")
        value = text if lookup == "icontains" else _typed(rdef, field, text)
        filters.append(Filter(field, lookup, value))
    return ListQuery(limit, offset, tuple(filters), order_by)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Nulls first; the values of one field share a type, so the second items compare.
    return (0, "") if value is None else (1, value)


def apply(query: ListQuery, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Filter and order ``objects`` (already in id order)."""
    selected = [o for o in objects if all(f.matches(o) for f in query.filters)]
    if query.order_by:
        field = query.order_by.removeprefix("-")
        selected.sort(key=lambda o: _sort_key(o.get(field)), reverse=query.order_by[0] == "-")
    return selected


def envelope(
    path: str, params: Iterable[tuple[str, str]], query: ListQuery, objects: list[dict[str, Any]]
) -> dict[str, Any]:
    """The list response: ``{"meta": {...}, "objects": [...]}`` for one page of ``objects``.

    ``next``/``previous`` are ``path?query`` strings keeping the other parameters, or null.
    """
    total = len(objects)
    limit, offset = query.limit, query.offset
    page = objects[offset:] if limit == 0 else objects[offset : offset + limit]
    others = [(k, v) for k, v in dict(params).items() if k not in ("limit", "offset")]

    def link(new_offset: int) -> str:
        return f"{path}?{urlencode([*others, ('limit', limit), ('offset', new_offset)])}"

    has_next = limit != 0 and offset + limit < total
    has_previous = limit != 0 and offset > 0
    return {
        "meta": {
            "limit": limit,
            "next": link(offset + limit) if has_next else None,
            "offset": offset,
            "previous": link(max(offset - limit, 0)) if has_previous else None,
            "total_count": total,
        },
        "objects": page,
    }
