"""Declarative field specs and their validation, with Django/tastypie-style messages.

A field spec describes one attribute of a resource: its type, default, limits, whether it is
read-only, secret (stored hashed) or write-only, and how it relates to other resources. The
same specs drive validation of writes, rendering of reads, filtering, snapshot checks and the
tastypie ``schema/`` endpoint, so the simulator cannot drift from its own schema. Relations are
in ``relations``; the resources' declarations in ``resources`` and the modules it names.

Types are strict (INFERRED where Django would coerce): a JSON bool is not an integer, a string
is not an integer or a bool, and a number is not a string.

The schema entry of a field follows what Pexip's own pexshell test fixture shows of a real
``schema/`` document (``lib/src/mcu/schema.rs``): ``blank``, ``default``, ``help_text``,
``nullable``, ``readonly``, ``type``, ``unique``, ``valid_choices`` for choice strings and
booleans (``[true, false]``), ``related_type`` for relations; ``resource_uri`` has no
``default``; ``id`` is ``blank`` with default ``""``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

Key = int | str

# Django's messages (the curly quotes are Django's own).
REQUIRED = "This field is required."
NULL = "This field cannot be null."
BLANK = "This field cannot be blank."
NOT_STRING = "This field must be a string."  # INFERRED: Django would coerce with str()
# Commands (not resources) refuse what they do not know: resources ignore it (``hydrate``).
UNKNOWN = "Unknown field."  # INFERRED
NO_DEFAULT = "No default provided."  # tastypie's text for a field without a default


def hash_secret(value: str) -> str:
    """Return the stored form of a secret field's value.

    The real API stores secrets hashed and returns the hash on GET (the guide: the NTP key "will
    be stored as a SHA1 hash"; SNMP passwords read back hashed). The exact real format is
    INFERRED: we store the SHA-1 hex digest of the UTF-8 value. The empty string stays empty
    and means "not set". This is the only place secrets are hashed.
    """
    if value == "":
        return ""
    return hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()


def format_time(moment: dt.datetime) -> str:
    """The API's time format, ``2006-01-02T15:04:05.000000`` (UTC, no offset)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def show(value: Any) -> str:
    """Render a client-supplied (non-secret) value for an error message."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class FieldError(Exception):
    """One field's validation failure; ``messages`` go into the 400 body under the field."""

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


class Resolver(Protocol):
    """What relation fields need from the model: resource URI → key of an existing object."""

    def resolve(self, target: str, uri: str) -> Key | None:
        """Return the key of the ``target`` object ``uri`` names, or None if there is none."""
        ...


@dataclass(frozen=True, kw_only=True)
class Field:
    """Base field spec. Subclasses implement ``clean_value`` and ``is_valid_stored``.

    ``required``: must be present on POST and PUT. ``readonly``: cannot be written.
    ``secret``: stored as ``hash_secret(value)`` and returned hashed. ``write_only``: stored
    hashed, returned as "". ``deprecated``: accepted and validated, then ignored (not stored).
    ``private``: stored as given (the simulator needs it, e.g. a private key) but never
    returned (read as ""); writing "" to an existing object keeps the stored value.
    ``transient``: accepted and validated, handed to the resource's behaviour, never stored,
    read as "" (a non-string one as its default; e.g. a passphrase, a CSR's key type).
    ``computed``: read-only, not stored, filled in at read time by the resource's behaviour
    (e.g. a certificate's ``nodes``).
    ``filtering``: whether ``?field=`` filters may use it (secret fields never).
    ``clear_kept``: a secret the simulated system itself must use in clear (a node's SNMPv3
    passwords, the LDAP bind password): the row still stores and shows only the hash; the
    model keeps the clear value in ``State.cleartext`` under that hash.
    ``schema_default``: what the schema shows as ``default`` when it is not the field's own
    (``OMIT`` leaves the key out, as for ``resource_uri``); ``schema_blank`` likewise.
    """

    default: Any = None
    nullable: bool = False
    required: bool = False
    readonly: bool = False
    unique: bool = False
    secret: bool = False
    write_only: bool = False
    deprecated: bool = False
    private: bool = False
    transient: bool = False
    computed: bool = False
    clear_kept: bool = False
    filtering: bool = True
    help_text: str = ""
    schema_default: Any = None
    schema_blank: bool | None = None

    schema_type: ClassVar[str] = "string"
    default_help: ClassVar[str] = 'Unicode string data. Ex: "Hello World"'

    def initial(self) -> Any:
        """A fresh copy of the default value for a new or reset object."""
        return copy.deepcopy(self.default)

    def clean(self, value: Any, resolver: Resolver) -> Any:
        """Validate a client value and return its stored form; raise ``FieldError``."""
        if value is None:
            if self.nullable:
                return None
            raise FieldError(NULL)
        cleaned = self.clean_value(value, resolver)
        if self.secret or self.write_only:
            return hash_secret(cleaned)
        return cleaned

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        """Validate a non-null value (type, limits); return it in stored form."""
        raise NotImplementedError

    def render(self, stored: Any) -> Any:
        """A stored (non-relation, shown) value as a read gives it."""
        return copy.deepcopy(stored)

    def is_valid_stored(self, value: Any) -> bool:
        """Whether ``value`` may appear in stored state (used to check restored snapshots)."""
        if value is None:
            return self.nullable
        return self.is_valid_stored_value(value)

    def is_valid_stored_value(self, value: Any) -> bool:
        """Type check of a non-null stored value."""
        raise NotImplementedError

    @property
    def stored(self) -> bool:
        """Whether the field is kept in state (deprecated, transient and computed ones are not)."""
        return not (self.deprecated or self.transient or self.computed)

    @property
    def hidden(self) -> bool:
        """Whether reads never show the value (write-only, private and transient fields)."""
        return self.write_only or self.private or self.transient

    @property
    def filterable(self) -> bool:
        """Plain, non-secret, stored fields can be used as ``?field=value`` filters."""
        return self.filtering and self.stored and not (self.secret or self.hidden)

    def lookups(self) -> list[str]:
        """The filter lookups this field supports."""
        return ["exact"] if self.filterable else []

    def schema(self) -> dict[str, Any]:
        """This field's entry in the tastypie ``schema/`` ``fields`` dict."""
        out: dict[str, Any] = {
            "blank": self.blank_allowed if self.schema_blank is None else self.schema_blank,
            "default": self.shown_default(),
            "help_text": self.help_text or self.default_help,
            "nullable": self.nullable,
            "readonly": self.readonly,
            "type": self.schema_type,
            "unique": self.unique,
        }
        if out["default"] is OMIT:
            del out["default"]
        return out

    def shown_default(self) -> Any:
        """The schema's ``default``: tastypie's "No default provided." for a required field,
        "" for a secret (never a value), else the default (``None`` shows as null)."""
        if self.schema_default is not None:
            return self.schema_default
        if self.secret or self.write_only or self.private:
            return "" if self.default is not None else None
        if self.required:
            return NO_DEFAULT
        return copy.deepcopy(self.default)

    @property
    def blank_allowed(self) -> bool:
        """Tastypie's ``blank``: whether "" is a value (strings only; see ``StringField``)."""
        return False


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
"""A ``schema_default`` that leaves ``default`` out of the schema entry."""


@dataclass(frozen=True, kw_only=True)
class BooleanField(Field):
    """A JSON boolean; anything else fails with Django's "must be either True or False"."""

    default: Any = False
    schema_type: ClassVar[str] = "boolean"
    default_help: ClassVar[str] = "Boolean data. Ex: True"

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if not isinstance(value, bool):
            raise FieldError(f"“{show(value)}” value must be either True or False.")
        return value

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, bool)

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "valid_choices": [True, False]}


@dataclass(frozen=True, kw_only=True)
class IntegerField(Field):
    """A JSON integer (not a bool, float or string) within ``min_value``..``max_value``."""

    min_value: int | None = None
    max_value: int | None = None
    schema_type: ClassVar[str] = "integer"
    default_help: ClassVar[str] = "Integer data. Ex: 2673"

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(f"“{show(value)}” value must be an integer.")
        if self.max_value is not None and value > self.max_value:
            raise FieldError(f"Ensure this value is less than or equal to {self.max_value}.")
        if self.min_value is not None and value < self.min_value:
            raise FieldError(f"Ensure this value is greater than or equal to {self.min_value}.")
        return value

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, kw_only=True)
class StringField(Field):
    """A JSON string with optional length limits and choices.

    ``blank=False`` rejects "". ``min_length`` applies only to non-empty values ("" means "not
    set", as for SNMP passwords: "" or 8–100 characters). Messages for secret fields never echo
    the value.
    """

    default: Any = ""
    max_length: int | None = None
    min_length: int | None = None
    blank: bool = True
    choices: Sequence[str] | None = None

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if not isinstance(value, str):
            raise FieldError(NOT_STRING)
        if value == "" and not self.blank:
            raise FieldError(BLANK)
        if self.choices is not None and value not in self.choices:
            raise FieldError(f"Value {value!r} is not a valid choice.")
        if self.max_length is not None and len(value) > self.max_length:
            raise FieldError(
                f"Ensure this value has at most {self.max_length} characters (it has {len(value)})."
            )
        if self.min_length is not None and value != "" and len(value) < self.min_length:
            raise FieldError(
                f"Ensure this value has at least {self.min_length} characters "
                f"(it has {len(value)})."
            )
        self.check_format(value)
        return value

    def check_format(self, value: str) -> None:
        """Extra format check of a non-empty string (subclasses)."""

    def is_valid_stored_value(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return self.choices is None or value in self.choices

    def lookups(self) -> list[str]:
        return ["exact", "icontains"] if self.filterable else []

    @property
    def blank_allowed(self) -> bool:
        return self.blank and not self.required and self.choices is None

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        if self.choices is not None:
            out["valid_choices"] = list(self.choices)
        return out


@dataclass(frozen=True, kw_only=True)
class IPAddressField(StringField):
    """A string that must parse as an IP address of ``version`` 4, 6 or None (either)."""

    version: int | None = 4

    def check_format(self, value: str) -> None:
        if value == "":
            return
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or (self.version is not None and address.version != self.version):
            kind = {4: "IPv4", 6: "IPv6", None: "IPv4 or IPv6"}[self.version]
            raise FieldError(f"Enter a valid {kind} address.")


@dataclass(frozen=True, kw_only=True)
class DateTimeField(Field):
    """A read-only timestamp string (``2006-01-02T15:04:05.000000``)."""

    readonly: bool = True
    schema_type: ClassVar[str] = "datetime"
    default_help: ClassVar[str] = 'A date & time as a string. Ex: "2010-11-10T03:07:43"'

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if not isinstance(value, str):
            raise FieldError(NOT_STRING)
        return value

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True, kw_only=True)
class ListField(Field):
    """A read-only list of strings (e.g. a certificate's ``nodes``)."""

    readonly: bool = True
    schema_type: ClassVar[str] = "list"
    default_help: ClassVar[str] = 'A list of data. Ex: ["abc", 26.73, 8]'

    def initial(self) -> Any:
        return []

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError("This field must be a list of strings.")
        return value

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out["default"] = []
        return out


@dataclass(frozen=True, kw_only=True)
class DictField(Field):
    """A read-only JSON object (a licence's ``vendor_dictionary``; schema type ``dict``)."""

    readonly: bool = True
    filtering: bool = False
    schema_type: ClassVar[str] = "dict"
    default_help: ClassVar[str] = 'A dictionary of data. Ex: {"price": 26.73, "name": "Daniel"}'

    def initial(self) -> Any:
        return {}

    def clean_value(self, value: Any, resolver: Resolver) -> Any:
        if not isinstance(value, dict):
            raise FieldError("This field must be a JSON object.")
        return copy.deepcopy(value)

    def is_valid_stored_value(self, value: Any) -> bool:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "default": {}}
