"""``ResourceDef``: what one API resource is (fields, methods, key, URIs, schema document).

The definitions themselves are in ``resources``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.pexip.fields import OMIT, Field, IntegerField, Key, StringField

API_PREFIX = "/api/admin/"
APIS = ("configuration", "status")
DEFAULT_LIMIT = 20

READ = ("GET",)
CRUD_LIST = ("GET", "POST")
CRUD_DETAIL = ("GET", "PATCH", "PUT", "DELETE")
SINGLETON_DETAIL = ("GET", "PATCH")

_INT_KEY = re.compile(r"[0-9]{1,18}")
_STR_KEY = re.compile(r"[A-Za-z0-9._-]{1,100}")


def id_field() -> IntegerField:
    """The integer primary key every id-keyed resource carries: read-only here (ignored on
    writes); the real schema shows it ``blank`` with default "" (and not ``readonly``: the
    simulator's schema says what the simulator does)."""
    return IntegerField(
        readonly=True,
        unique=True,
        help_text="The primary key.",
        schema_default="",
        schema_blank=True,
    )


def uri_field() -> StringField:
    """The read-only ``resource_uri`` every resource carries (no ``default`` in the schema)."""
    return StringField(
        readonly=True,
        filtering=False,
        help_text="The URI that identifies this resource.",
        schema_default=OMIT,
        schema_blank=False,
    )


@dataclass(frozen=True)
class ResourceDef:
    """One API resource: where it lives, its fields and what may be done with it.

    ``computed``: objects are derived live from other state (status resources) rather than
    stored. ``key_field``: ``id`` (integer) or e.g. ``fulfillment_id`` (string) for licences.
    """

    name: str
    api: str
    fields: Mapping[str, Field]
    list_methods: tuple[str, ...]
    detail_methods: tuple[str, ...]
    verbose_name: str
    singleton: bool = False
    key_field: str = "id"
    computed: bool = False

    @property
    def list_uri(self) -> str:
        """``/api/admin/<api>/v1/<name>/``."""
        return f"{API_PREFIX}{self.api}/v1/{self.name}/"

    @property
    def schema_uri(self) -> str:
        """``/api/admin/<api>/v1/<name>/schema/``."""
        return f"{self.list_uri}schema/"

    def uri(self, key: Key) -> str:
        """The ``resource_uri`` of the object with ``key``."""
        return f"{self.list_uri}{key}/"

    @property
    def int_keyed(self) -> bool:
        """Whether keys are integers (``id``) rather than strings."""
        return self.key_field == "id"

    def parse_key(self, text: str) -> Key | None:
        """Parse a key from a URL path segment; None if it cannot be a key of this resource."""
        if self.int_keyed:
            return int(text) if _INT_KEY.fullmatch(text) else None
        return text if _STR_KEY.fullmatch(text) else None

    def stored_fields(self) -> dict[str, Field]:
        """Fields kept in state: all but the key, ``resource_uri`` and deprecated ones."""
        return {
            name: spec
            for name, spec in self.fields.items()
            if name not in (self.key_field, "resource_uri") and spec.stored
        }

    def default_row(self) -> dict[str, Any]:
        """Stored values of a new object before the client's values are applied."""
        return {name: spec.initial() for name, spec in self.stored_fields().items()}

    def verbose(self, field: str) -> str:
        """Django's verbose field name for messages: ``ldap_group_dn`` → ``Ldap group dn``."""
        return field.replace("_", " ").capitalize()

    def schema(self) -> dict[str, Any]:
        """The tastypie schema document served at ``schema_uri``, generated from the same
        field specs that validate writes and render reads. ``filtering`` lists the lookups
        each field allows (tastypie also allows a list; the real API shows 1 or 2, "all
        lookups", which the simulator does not offer)."""
        filtering = {n: f.lookups() for n, f in self.fields.items() if f.filterable}
        return {
            "allowed_detail_http_methods": [m.lower() for m in self.detail_methods],
            "allowed_list_http_methods": [m.lower() for m in self.list_methods],
            "default_format": "application/json",
            "default_limit": DEFAULT_LIMIT,
            "fields": {name: spec.schema() for name, spec in self.fields.items()},
            "filtering": filtering,
            "ordering": sorted(filtering),
        }


def configuration(
    name: str,
    verbose_name: str,
    fields: Mapping[str, Field],
    *,
    singleton: bool = False,
    list_methods: tuple[str, ...] = CRUD_LIST,
    detail_methods: tuple[str, ...] = CRUD_DETAIL,
    key_field: str = "id",
) -> ResourceDef:
    """A configuration resource: by default list GET+POST and detail GET+PATCH+PUT+DELETE;
    a singleton (at ``.../1/``) list GET and detail GET+PATCH. ``fields`` are followed by
    ``id`` (for id-keyed resources) and ``resource_uri``, which every object carries."""
    keys = {"id": id_field()} if key_field == "id" else {}
    return ResourceDef(
        name=name,
        api="configuration",
        verbose_name=verbose_name,
        fields={**fields, **keys, "resource_uri": uri_field()},
        list_methods=READ if singleton else list_methods,
        detail_methods=SINGLETON_DETAIL if singleton else detail_methods,
        singleton=singleton,
        key_field=key_field,
    )
