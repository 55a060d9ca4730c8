"""Relation field specs: to-one and to-many references, and ``global.disabled_codecs``.

Writes name related objects by resource URI (``/api/admin/configuration/v1/<resource>/<id>/``).
Reads give a URI string, or for embedded to-many relations the related object itself (see
``PexipModel._render``). So that an object read can be sent back whole, a relation also takes
what a read gives: a nested object is taken as a reference to the object its ``resource_uri``
names (tastypie resolves nested data through its ``resource_uri`` first). INFERRED: the other
keys of nested data are ignored (tastypie may also apply them to the related object), and
nested data without a ``resource_uri`` is refused (tastypie would create a related object).

A to-many relation given ``null`` is emptied: tastypie's ``hydrate_m2m`` turns null into no
related objects for a field that may be blank, and Pexip's Go SDK sends ``null`` for an unset
list (its update requests marshal a nil slice as null).

A relation to a resource the simulator does not serve (``sip_proxy``, ``event_sink``...) can
only be null or empty: there is no object a URI could name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from simulator.pexip.fields import Field, FieldError, Key, Resolver

NOT_URI = "This field must be a resource URI string."  # INFERRED
NOT_URI_LIST = "This field must be a list of resource URIs."  # INFERRED
NESTED_WITHOUT_URI = (
    "Nested resource data must name an existing object by its resource_uri."  # INFERRED
)
_CODEC = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def missing(uri: str) -> str:
    """The message for a URI that names no object (INFERRED wording)."""
    return f"Object does not exist: {uri}"


def _reference(value: Any) -> str:
    """The URI a relation value names: the string itself, or a nested object's
    ``resource_uri``; ``FieldError`` for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        uri = value.get("resource_uri")
        if isinstance(uri, str):
            return uri
        raise FieldError(NESTED_WITHOUT_URI)
    raise FieldError(NOT_URI)


@dataclass(frozen=True, kw_only=True)
class RelatedField(Field):
    """Base of the relation fields: schema type ``related`` with its ``related_type``; they
    are never filters."""

    schema_type: ClassVar[str] = "related"
    related_type: ClassVar[str] = "to_many"

    @property
    def filterable(self) -> bool:
        return False

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "related_type": self.related_type}


@dataclass(frozen=True, kw_only=True)
class ToOneField(RelatedField):
    """A to-one relation: written and read as a resource URI string (or null)."""

    to: str
    related_type: ClassVar[str] = "to_one"
    default_help: ClassVar[str] = (
        "A single related resource. Can be either a URI or set of nested resource data."
    )

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        uri = _reference(value)
        key = resolver.resolve(self.to, uri)
        if key is None:
            raise FieldError(missing(uri))
        return key

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, int | str) and not isinstance(value, bool)


@dataclass(frozen=True, kw_only=True)
class ToManyField(RelatedField):
    """A to-many relation: written as a list of URIs (or the nested objects a read gives);
    read embedded (``embed``) or as URIs.

    Duplicates collapse into one (a many-to-many relation is a set); order is kept. Null
    empties the relation (see the module docstring); the schema says ``nullable``.
    """

    to: str
    embed: bool = False
    nullable: bool = True
    default_help: ClassVar[str] = (
        "Many related resources. Can be either a list of URIs or list of individually "
        "nested resource data."
    )

    def initial(self) -> Any:
        return []

    def clean(self, value: Any, resolver: Resolver) -> Any:
        return [] if value is None else self.clean_value(value, resolver)

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if not isinstance(value, list):
            raise FieldError(NOT_URI_LIST)
        keys: list[Key] = []
        messages: list[str] = []
        for item in value:
            try:
                uri = _reference(item)
            except FieldError as error:
                message = error.messages[0]
            else:
                key = resolver.resolve(self.to, uri)
                if key is not None:
                    if key not in keys:
                        keys.append(key)
                    continue
                message = missing(uri)
            if message not in messages:
                messages.append(message)
        if messages:
            raise FieldError(*messages)
        return keys

    def is_valid_stored(self, value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(k, int | str) and not isinstance(k, bool) for k in value
        )


@dataclass(frozen=True, kw_only=True)
class CodecListField(RelatedField):
    """``global.disabled_codecs``: read and written as ``[{"value": "<codec>"}, ...]``
    (Pexip's Go SDK ``CodecValue``; the Terraform provider writes it so), stored as the codec
    names. INFERRED: the codec names accepted (a letter or digit, then up to 63 of letters,
    digits and ``_.+-``; the real list is not published) and that objects carry only
    ``value``."""

    default_help: ClassVar[str] = "Many related resources."

    def initial(self) -> Any:
        return list(self.default or [])

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        message = 'This field must be a list of objects like {"value": "H264_H_0"}.'
        if not isinstance(value, list):
            raise FieldError(message)
        names: list[str] = []
        for item in value:
            name = item.get("value") if isinstance(item, dict) else None
            if not isinstance(name, str):
                raise FieldError(message)
            if not _CODEC.fullmatch(name):
                raise FieldError(f"Value {name!r} is not a valid codec name.")
            if name not in names:
                names.append(name)
        return names

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, str) and _CODEC.fullmatch(v) for v in value
        )

    def render(self, stored: Any) -> Any:
        return [{"value": name} for name in stored]

    def shown_default(self) -> Any:
        return self.render(self.initial())
