"""A write's body → the stored row it produces, validated whole before anything changes.

Named after tastypie's ``full_hydrate``, whose behaviour it follows (django-tastypie,
``tastypie/resources.py``): a write reads only the fields the resource declares and skips the
read-only ones. So:

- A field the resource does not know is ignored: not stored, not an error. (The Management
  Node's own resources are tastypie resources; their schema is tastypie's.)
- A read-only field (``id``, ``resource_uri``, ``primary``, a certificate's parsed metadata,
  a licence's ``status``...) is ignored too, whatever its value.
- A field sent with exactly the value a read shows leaves the object as it is. This is what
  makes a read-modify-write of the whole object safe: a secret comes back as its hash, a
  write-only or private field as "", a transient one as "" or its default, a to-many relation
  as embedded objects, and none of these may overwrite what is stored. (Tastypie's own PATCH
  merges the request into the object's read form and hydrates the result, so the real API has
  to treat as-read values the same way.) INFERRED: the consequence that a write-only field
  cannot be emptied by sending "" (there is nothing to tell "" from "unchanged").

Both kinds of ignored field are reported (``hydrate``'s ``ignored``): the simulator's request log
names them, so that Accord's tests can hold Accord's clients to the real schema without the
simulator answering differently from the real API.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.pexip import rules
from simulator.pexip.errors import BadRequest, ValidationError
from simulator.pexip.fields import REQUIRED, FieldError, Key, Resolver
from simulator.pexip.resourcedef import ResourceDef

MALFORMED_BODY = "Malformed JSON in request body: expected a JSON object"


def same(a: Any, b: Any) -> bool:
    """JSON equality (so ``true`` is not ``1``)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@dataclass
class Hydrated:
    """What a valid write produces.

    ``row``: the stored row. ``changes``: the body's fields that change something, as the
    client sent them (the resource's behaviour reads these, e.g. a CSR's completion).
    ``extras``: cleaned values of transient fields. ``clear``: the clear values of
    ``clear_kept`` secrets by their stored hash.
    """

    row: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    clear: dict[str, str] = field(default_factory=dict)


def hydrate(
    rdef: ResourceDef,
    body: Any,
    resolver: Resolver,
    rows: Mapping[Key, dict[str, Any]],
    *,
    key: Key | None,
    shown: Mapping[str, Any],
    partial: bool,
    ignored: list[str] | None = None,
) -> Hydrated:
    """Validate ``body`` for a write to ``rdef`` and return what it produces.

    ``rows``: the resource's stored rows (``key``'s is the current object, None on create);
    ``shown``: the current object as a read shows it ({} on create). ``partial``: PATCH (what
    the body leaves out is kept); otherwise POST or PUT (left-out writable fields take their
    defaults, required ones must be present). The fields the write ignores (unknown to the
    resource, or read-only and not as a read shows them) are added to ``ignored``, also when
    the write is refused. Raises ``BadRequest`` (not a JSON object) or
    ``ValidationError`` with every field error, the cross-field rules' included.
    """
    if not isinstance(body, dict):
        raise BadRequest(MALFORMED_BODY)
    current = rows[key] if key is not None else None
    if partial and current is not None:
        result = Hydrated(copy.deepcopy(current))
    else:
        result = Hydrated(rdef.default_row())
        for name, spec in rdef.stored_fields().items():
            if (spec.readonly or spec.private) and current is not None:
                result.row[name] = copy.deepcopy(current[name])
    errors: dict[str, list[str]] = {}
    for name, value in body.items():
        spec = rdef.fields.get(name)
        as_read = name in shown and same(shown[name], value)
        if spec is None or spec.readonly:
            if not as_read and ignored is not None:
                ignored.append(name)
            continue
        if as_read and current is not None:
            if spec.stored:
                result.row[name] = copy.deepcopy(current[name])
            continue
        try:
            cleaned = spec.clean(value, resolver)
        except FieldError as error:
            errors[name] = error.messages
            continue
        result.changes[name] = value
        if spec.transient:
            result.extras[name] = cleaned
        elif spec.stored:
            result.row[name] = cleaned
            if spec.clear_kept and cleaned:
                result.clear[cleaned] = spec.clean_value(value, resolver)
    if not partial:
        for name, spec in rdef.fields.items():
            if spec.required and name not in body:
                errors[name] = [REQUIRED]
    for name, spec in rdef.stored_fields().items():
        if spec.unique and name in result.changes and name not in errors:
            value = result.row[name]
            if any(k != key and r[name] == value for k, r in rows.items()):
                errors[name] = [
                    f"{rdef.verbose_name} with this {rdef.verbose(name)} already exists."
                ]
    if not errors:
        errors = rules.check(rdef, result.row)
    if errors:
        raise ValidationError(rdef.name, errors)
    return result
