"""Scrub secrets out of recorded HTTP traffic and observations, by substitution.

Each real secret is replaced by its stand-in (the value a replay uses for it), and its stored
form (SHA-1 hex, as the Management Node API returns secret fields) by the stand-in's SHA-1, so a
verdict comparing the two gives the same answer on replay as live. Secret fields holding anything
else, credentials in headers and PEM private keys are replaced by ``REDACTED``.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import html
import json as jsonlib
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from vcr.request import Request

REDACTED = "REDACTED"
REDACTED_KEY = "-----BEGIN PRIVATE KEY-----\nREDACTED\n-----END PRIVATE KEY-----"
SECRET_WORDS = re.compile(
    r"password|passphrase|secret|community|token|(?:^|[_-])keys?$", re.IGNORECASE
)
"""A secret field's name: ``key`` only as the last word (``private_key``, an NTP ``key``), so that
``key_id``, ``issuer_key_id`` and ``private_key_type`` (not secrets) stay as they are."""
WELL_KNOWN = frozenset({"public", "private"})
"""Secret fields' values kept as they are: the factory SNMP communities are no secret, and a
replay must still see a node that uses one (SNMP-03)."""
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
SESSION_HEADER = re.compile(r"token|session|api-?key|secret|password", re.IGNORECASE)
PRIVATE_KEY = re.compile(
    r"-----BEGIN [^-\r\n]*PRIVATE KEY-----.*?(?:-----END [^-\r\n]*PRIVATE KEY-----|\Z)", re.DOTALL
)
SOAP_PASSWORD = re.compile(
    r"<(?P<tag>(?:[A-Za-z_][\w.-]*:)?password)(?P<attrs>\s[^>]*)?(?<!/)>(?P<value>.*?)</(?P=tag)\s*>",
    re.DOTALL,
)
# vCenter's session key: the ``key`` of the UserSession a LoginResponse returns (or any
# property value typed UserSession). Other ``<key>`` elements (device keys) are data a replay needs.
SESSION_KEY = re.compile(
    r"(?P<open><(?P<tag>(?:[\w.-]+:)?(?:returnval|val))\b(?P<attrs>[^>]*)>\s*<key>)[^<]*(?=</key>)"
)
FORM = re.compile(r"[\w.~%+-]+=[^&\s]*(?:&[\w.~%+-]+=[^&\s]*)*")
NEW_COOKIE = re.compile(r",\s*(?=[^;,=\s]+=)")  # a comma starting a cookie, not one in Expires=

# How a secret may be written besides verbatim: JSON-escaped, percent-encoded, XML-escaped.
ENCODINGS: tuple[Callable[[str], str], ...] = (
    lambda s: jsonlib.dumps(s)[1:-1],
    lambda s: quote(s, safe=""),
    quote_plus,
    html.escape,
)


def sha1hex(value: str) -> str:
    """The SHA-1 hex of a value, as the Management Node API stores secret fields."""
    return hashlib.sha1(value.encode()).hexdigest()


def is_secret_field(name: str) -> bool:
    """Whether a field (or form parameter) by this name holds a secret."""
    return bool(SECRET_WORDS.search(name))


def _redact_key(match: re.Match[str]) -> str:
    block = match.group()
    if "\n" not in block and "\\n" in block:  # a key inside a JSON string in raw text
        return REDACTED_KEY.replace("\n", "\\n")
    return REDACTED_KEY


def _session_key(match: re.Match[str], text: str) -> str:
    if "UserSession" in match["attrs"] or (
        match["tag"].endswith("returnval") and "LoginResponse" in text
    ):
        return match["open"] + REDACTED
    return match.group()


def _cookie_values(headers: Mapping[str, Any]) -> list[str]:
    """The values of the cookies a response sets (session tokens, to be scrubbed wherever the
    body repeats them)."""
    name = _header(headers, "set-cookie")
    found = headers.get(name) if name else None
    values = [found] if isinstance(found, str) else list(found or [])
    result = []
    for header in values:
        for cookie in NEW_COOKIE.split(str(header)):
            value = cookie.split(";", 1)[0].partition("=")[2].strip().strip('"')
            if len(value) >= 8:
                result.append(value)
    return result


def _decompress(data: bytes, encoding: str) -> bytes:
    """Decoded content; vcrpy 9.4 already hands over urllib3's decoded data, header unchanged."""
    try:
        if encoding in ("gzip", "x-gzip") and data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if encoding == "deflate":
            try:
                return zlib.decompress(data)
            except zlib.error:
                return zlib.decompress(data, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        pass
    try:
        data.decode("utf-8")  # compressed data is not valid UTF-8: this is already plain
    except UnicodeDecodeError:
        raise ValueError(
            f"cannot scrub a response body with Content-Encoding {encoding!r}"
        ) from None
    return data


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """The original spelling of a header name, matched case-insensitively."""
    return next((k for k in headers if k.lower() == name), None)


@dataclass(frozen=True)
class Scrubber:
    """Substitutes stand-ins for real secrets and redacts other secrets in what is recorded."""

    substitutions: tuple[tuple[str, str], ...] = ()  # (real secret, stand-in) pairs
    field_values: tuple[tuple[str, str], ...] = ()  # (a secret field's value, stand-in)

    @classmethod
    def for_secrets(
        cls, pairs: Iterable[tuple[str, str]], fields: Iterable[tuple[str, str]] = ()
    ) -> Scrubber:
        """A scrubber for (real value, stand-in) pairs, their SHA-1s and encoded forms; and
        for ``fields``: values (a site's SNMP community, stated in its site file) replaced by
        their stand-ins only where a JSON string is exactly that value (a word such as "public"
        is not replaced inside every text)."""
        subs: dict[str, str] = {}
        for real, stand_in in pairs:
            if not real:
                continue
            subs[real] = stand_in
            subs[sha1hex(real)] = sha1hex(stand_in)
            subs[sha1hex(real).upper()] = sha1hex(stand_in).upper()
            for encode in ENCODINGS:
                subs.setdefault(encode(real), encode(stand_in))
        ordered = sorted(subs.items(), key=lambda pair: len(pair[0]), reverse=True)
        return cls(tuple(ordered), tuple((v, s) for v, s in fields if v))

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        reals = sorted((r for r, _ in self.substitutions if r), key=len, reverse=True)
        return re.compile("|".join(map(re.escape, reals))) if reals else None

    @functools.cached_property
    def _lookup(self) -> dict[str, str]:
        return {real: stand_in for real, stand_in in reversed(self.substitutions)}

    @functools.cached_property
    def _field_lookup(self) -> dict[str, str]:
        return dict(self.field_values)

    @functools.cached_property
    def _kept(self) -> frozenset[str]:
        """Stand-ins and their SHA-1s: secret-field values that may be written."""
        stand_ins = {s for _, s in self.substitutions + self.field_values}
        return frozenset(stand_ins | {sha1hex(s) for s in stand_ins})

    def _keep(self, value: str) -> bool:
        if not value or value in WELL_KNOWN:
            return True
        return value in self._kept or html.unescape(value) in self._kept

    def text(self, value: str) -> str:
        """Substitutions, then every PEM private-key block replaced."""
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: self._lookup[m.group()], value)
        return PRIVATE_KEY.sub(_redact_key, value)

    def json(self, value: Any) -> Any:
        """A JSON value scrubbed; secret fields' strings other than stand-ins redacted."""
        return self._json(value, secret=False)

    def _json(self, value: Any, secret: bool) -> Any:
        if isinstance(value, dict):
            return {
                self.text(str(k)): self._json(v, is_secret_field(str(k))) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._json(v, secret) for v in value]
        if isinstance(value, str):
            value = self.text(value)
            if value in self._field_lookup:
                return self._field_lookup[value]
            return REDACTED if secret and not self._keep(value) else value
        return value

    def _form(self, value: str) -> str:
        fields = []
        for field in value.split("&"):
            name, _, val = field.partition("=")
            if is_secret_field(unquote_plus(name)) and not self._keep(unquote_plus(val)):
                val = REDACTED
            fields.append(f"{name}={val}")
        return "&".join(fields)

    def _soap_password(self, match: re.Match[str]) -> str:
        value = match["value"] if self._keep(match["value"]) else REDACTED
        return f"<{match['tag']}{match['attrs'] or ''}>{value}</{match['tag']}>"

    def _body_text(self, text: str) -> str:
        try:
            parsed = jsonlib.loads(text)
        except ValueError:
            pass
        else:
            return jsonlib.dumps(self.json(parsed), separators=(",", ":"), ensure_ascii=False)
        text = self.text(text)
        if text.lstrip().startswith("<"):
            text = SESSION_KEY.sub(lambda m: _session_key(m, text), text)
            return SOAP_PASSWORD.sub(self._soap_password, text)
        if FORM.fullmatch(text.strip()):
            return self._form(text)
        return text

    def body(self, data: bytes | str | None) -> bytes | str | None:
        """An HTTP body scrubbed as JSON, XML/SOAP, a form or plain text; same type back."""
        if data is None:
            return None
        if isinstance(data, str):
            return self._body_text(data)
        # surrogateescape: any bytes round-trip, and UTF-8 secrets are still found.
        return self._body_text(data.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"
        )

    def _header_value(self, name: str, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self._header_value(name, v) for v in value]
        if isinstance(value, bytes):
            return self._header_value(name, value.decode("latin-1")).encode("latin-1", "replace")
        if not isinstance(value, str):
            return value
        lower = name.lower()
        if lower in CREDENTIAL_HEADERS or SESSION_HEADER.search(lower):
            return REDACTED
        if lower == "set-cookie":
            return ", ".join(self._set_cookie(c) for c in NEW_COOKIE.split(value))
        return self.text(value)

    def _set_cookie(self, cookie: str) -> str:
        pair, *attributes = cookie.split(";")
        name, equals, _ = pair.partition("=")
        kept = f"{name.strip()}={REDACTED}" if equals else REDACTED
        return ";".join([kept, *(self.text(a) for a in attributes)])

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Credentials redacted, cookies' values redacted, every other value through text()."""
        return {name: self._header_value(name, value) for name, value in headers.items()}

    def uri(self, uri: str) -> str:
        """A URI with secrets substituted and secret query parameters redacted."""
        parts = urlsplit(self.text(uri))
        if parts.query and FORM.fullmatch(parts.query):
            parts = parts._replace(query=self._form(parts.query))
        return urlunsplit(parts)

    def request(self, request: Request) -> Request:
        """A scrubbed copy of a vcrpy request (for ``before_record_request``), body as bytes."""
        body = getattr(request, "body_bytes", request.body)
        if hasattr(body, "read"):  # older vcrpy (no body_bytes): a file body, or an iterator
            body = body.read()
        elif not isinstance(body, bytes | str | None):
            body = b"".join(body)
        body = self.body(body)
        headers = self.headers(dict(request.headers))
        length = _header(headers, "content-length")
        if length is not None and isinstance(body, bytes):
            headers[length] = str(len(body))
        return Request(request.method, self.uri(request.uri), body, headers)

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed copy of a vcrpy response dict (for ``before_record_response``)."""
        scrubbed = copy.deepcopy(response)
        headers: dict[str, Any] = dict(scrubbed.get("headers") or {})
        body = scrubbed.get("body", {}).get("string")
        encoding_name = _header(headers, "content-encoding")
        if encoding_name is not None and isinstance(body, bytes):
            encodings = headers.pop(encoding_name)
            encodings = [encodings] if isinstance(encodings, str) else encodings
            for encoding in reversed(",".join(encodings).split(",")):
                if encoding.strip():
                    body = _decompress(body, encoding.strip().lower())
        if "body" in scrubbed:
            body = self.body(body)
            for value in _cookie_values(headers):  # a session cookie the body repeats
                if isinstance(body, bytes):
                    body = body.replace(value.encode(), REDACTED.encode())
                elif isinstance(body, str):
                    body = body.replace(value, REDACTED)
            scrubbed["body"]["string"] = body
        headers = self.headers(headers)
        length = _header(headers, "content-length")
        if length is not None and isinstance(body, bytes | str):
            size = len(body.encode() if isinstance(body, str) else body)
            headers[length] = [str(size)] if isinstance(headers[length], list) else str(size)
        scrubbed["headers"] = headers
        return scrubbed
