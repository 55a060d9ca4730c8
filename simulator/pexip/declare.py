"""Short constructors for field declarations, so that each resource reads as a table.

Help texts are short paraphrases of the real schema's (pexip-api-reference.md [SCHEMA]); limits,
defaults and choices are the sourced ones, each resource module saying where a value is
INFERRED.
"""

from __future__ import annotations

from collections.abc import Sequence

from simulator.pexip.fields import BooleanField, IntegerField, IPAddressField, StringField
from simulator.pexip.relations import ToManyField, ToOneField


def text(
    max_length: int | None = None,
    default: str | None = "",
    help: str = "",
    *,
    nullable: bool = False,
    unique: bool = False,
) -> StringField:
    """An optional string ("" unless ``default`` says otherwise; null if ``nullable``)."""
    return StringField(
        max_length=max_length,
        default=default,
        nullable=nullable,
        unique=unique,
        help_text=help,
    )


def optional(max_length: int | None = None, help: str = "") -> StringField:
    """An optional string that is null when unset (a pointer in the Go SDK)."""
    return text(max_length, None, help, nullable=True)


def required(max_length: int, help: str = "", *, unique: bool = False) -> StringField:
    """A string that must be given on create (and on PUT) and may not be blank."""
    return StringField(
        max_length=max_length, required=True, blank=False, unique=unique, help_text=help
    )


def choice(choices: Sequence[str], default: str, help: str = "") -> StringField:
    """One of ``choices`` (case-sensitive)."""
    return StringField(choices=tuple(choices), default=default, help_text=help)


def flag(default: bool, help: str = "") -> BooleanField:
    """A boolean."""
    return BooleanField(default=default, help_text=help)


def number(
    lo: int | None, hi: int | None, default: int | None, help: str = "", *, nullable: bool = False
) -> IntegerField:
    """An integer within ``lo``..``hi`` (either may be None: no limit)."""
    return IntegerField(
        min_value=lo, max_value=hi, default=default, nullable=nullable, help_text=help
    )


def dscp(help: str) -> IntegerField:
    """A DSCP value, 0–63, default 0, nullable."""
    return number(0, 63, 0, help, nullable=True)


def mtu() -> IntegerField:
    """An MTU, 512–1500, default 1500."""
    return number(512, 1500, 1500, "Maximum Transmission Unit in bytes.")


def ports(default: int, help: str) -> IntegerField:
    """A port range bound, 10000–49999."""
    return number(10000, 49999, default, help)


def address(version: int | None = 4, help: str = "", *, nullable: bool = False) -> StringField:
    """An optional IP address ("" or, if ``nullable``, null when unset)."""
    return IPAddressField(
        version=version,
        max_length=255,
        nullable=nullable,
        default=None if nullable else "",
        help_text=help,
    )


def secret(max_length: int | None, help: str = "", **kw: object) -> StringField:
    """A secret: stored as a SHA-1 hash and read back as that hash ("" when unset)."""
    return StringField(max_length=max_length, secret=True, help_text=help, **kw)  # type: ignore[arg-type]


def deprecated_flag(default: bool, help: str = "Deprecated; ignored.") -> BooleanField:
    """A deprecated boolean: validated, then ignored (reads show the default). Nullable: the
    Go SDK sends null for an unset one (INFERRED that the API takes it)."""
    return BooleanField(default=default, deprecated=True, nullable=True, help_text=help)


def deprecated_text(default: str = "", help: str = "Deprecated; ignored.") -> StringField:
    """A deprecated string: validated, then ignored (reads show the default)."""
    return StringField(default=default, deprecated=True, help_text=help)


def one(to: str, help: str = "") -> ToOneField:
    """An optional to-one relation (null when unset)."""
    return ToOneField(to=to, nullable=True, help_text=help)


def many(to: str, help: str = "", *, embed: bool = False) -> ToManyField:
    """A to-many relation; ``embed``: reads embed the related objects."""
    return ToManyField(to=to, embed=embed, help_text=help)
