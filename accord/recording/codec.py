"""Probe results to JSON and back, by their type hints (no pickles: a recording is read, and
may come from elsewhere).

`encode` turns a probe's result (frozen dataclasses of strings, numbers, tuples, dicts,
`Endpoint`, `Path` and `x509.Certificate`) into JSON values; `decode` rebuilds it from the
probe's return annotation. `plain` is the JSON form of a probe's *arguments*, the key its
observation is found by: a `Path` by its file name only, since a replay reads the recording's
copy of the site's files from another folder.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


class DecodeError(ValueError):
    """A recorded value does not fit the type the probe returns."""


def encode(value: Any) -> Any:
    """A JSON value for a probe's result."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, x509.Certificate):
        return value.public_bytes(Encoding.PEM).decode()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def plain(value: Any) -> Any:
    """The JSON form of a probe argument, as its observation's key."""
    if isinstance(value, Path):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def decode(data: Any, hint: Any, where: str = "result") -> Any:
    """``data`` (from `encode`) as a value of type ``hint``; `DecodeError` names where it does
    not fit."""
    origin = get_origin(hint)
    if hint is Any or hint is object:
        return data
    if origin in (typing.Union, types.UnionType):
        options = get_args(hint)
        if data is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return decode(data, option, where)
            except (DecodeError, TypeError, ValueError):
                continue
        raise DecodeError(f"{where}: {data!r} fits none of {hint}")
    if origin is Literal:
        if data not in get_args(hint):
            raise DecodeError(f"{where}: {data!r} is not one of {get_args(hint)}")
        return data
    if origin in (tuple, list):
        if not isinstance(data, list):
            raise DecodeError(f"{where}: expected a list, found {type(data).__name__}")
        args = get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(data) != len(args):
                raise DecodeError(f"{where}: expected {len(args)} items, found {len(data)}")
            pairs = enumerate(zip(data, args, strict=True))
            return tuple(decode(v, a, f"{where}[{i}]") for i, (v, a) in pairs)
        item = args[0] if args else Any
        items = [decode(v, item, f"{where}[{i}]") for i, v in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict or hint is dict:
        if not isinstance(data, dict):
            raise DecodeError(f"{where}: expected an object, found {type(data).__name__}")
        value_hint = get_args(hint)[1] if get_args(hint) else Any
        return {k: decode(v, value_hint, f"{where}.{k}") for k, v in data.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(data, hint, where)
    if hint is x509.Certificate:
        if not isinstance(data, str):
            raise DecodeError(f"{where}: expected a PEM certificate")
        return x509.load_pem_x509_certificate(data.encode())
    if hint is Path:
        return Path(data)
    if hint is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if hint in (str, int, bool) and type(data) is hint:
        return data
    if hint is type(None) and data is None:
        return None
    raise DecodeError(f"{where}: {data!r} is not a {getattr(hint, '__name__', hint)}")


def _dataclass(data: Any, cls: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise DecodeError(f"{where}: expected an object for {cls.__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise DecodeError(f"{where}: {cls.__name__} has no field {', '.join(unknown)}")
    return cls(**{k: decode(v, hints[k], f"{where}.{k}") for k, v in data.items()})
