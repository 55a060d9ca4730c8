"""Secrets: the values that never show themselves, and the one redaction of everything Accord
writes.

A `Secret` (what a site file's credential reference resolves to) never shows itself in a repr, a
str, a log line or a report; `Secret.reveal` gives its value to the one place that must send it.

Redaction by value: field names catch a secret where an API names it; they cannot catch a
server's error page that echoes the request's credentials, a traceback that shows urllib3's
request headers, or a session key in a SOAP body. So every secret value Accord holds is
remembered here as it comes into being (each `Secret`: whatever a site resolves, the lab's and
the deployer's passphrases; the Basic credentials a client sends; vCenter's session key), with
the forms it travels in:

- as it is, JSON-escaped, percent-encoded (``quote`` and ``quote_plus``), HTML-escaped;
- the SHA-1 hex the Management Node API returns for a secret field (lower and upper case);
- base64 of the value, and for credentials the ``Authorization: Basic`` token of
  ``user:password``.

`scrub` replaces each with ``***`` in a text; `scrub_value` in every string of a JSON-like value.
`redact` is the one rule for what is written: by field name (a value under ``password``,
``key``, ``community``... is never shown), then by value. Everything Accord writes goes through
it: observations, failure messages and captured output of every test report
(`accord.evidence.failures`), recorded cassettes (`accord.recording.scrub`), the deployer's
output and its one-line errors, and every `accord.http.ClientError`.

Values shorter than `MIN_LENGTH` are not remembered: a two-letter test password would
otherwise blank every occurrence of those two letters in every report.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_LENGTH = 6
# What a recording writes in a secret's place: in a replay, never a secret to scrub.
PLACEHOLDERS = frozenset({MASK, "REDACTED"})

_lock = threading.Lock()
_forms: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _encodings(value: str) -> set[str]:
    raw = value.encode("utf-8", "surrogatepass")
    digest = hashlib.sha1(raw).hexdigest()
    return {
        value,
        json.dumps(value)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
        html.escape(value),
        digest,
        digest.upper(),
        base64.b64encode(raw).decode("ascii"),
    }


def _add(forms: set[str]) -> None:
    global _pattern
    new = {f for f in forms if len(f) >= MIN_LENGTH} - _forms
    if new:
        with _lock:
            _forms.update(new)
            _pattern = None


def remember(value: str | None) -> None:
    """A secret value (and its encoded and hashed forms) to be scrubbed from everything."""
    if value and len(value) >= MIN_LENGTH and value not in PLACEHOLDERS:
        _add(_encodings(value))


def remember_credentials(username: str, password: str) -> None:
    """HTTP Basic credentials: the password, and the ``Authorization`` token they make."""
    remember(password)
    if password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        _add({token, f"Basic {token}"})


def forget_all() -> None:
    """Forget every value (tests only)."""
    global _pattern
    with _lock:
        _forms.clear()
        _pattern = None


def known() -> frozenset[str]:
    """Every form remembered so far."""
    return frozenset(_forms)


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _forms:
            ordered = sorted(_forms, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(f) for f in ordered))
        return _pattern


def scrub(text: str) -> str:
    """``text`` with every remembered secret form replaced by ``***``."""
    pattern = _compiled()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def scrub_value(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, strings) with every string scrubbed;
    other values as they are."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value


def holds_secret(text: str) -> bool:
    """Whether ``text`` contains any remembered secret form."""
    pattern = _compiled()
    return bool(pattern is not None and text and pattern.search(text))


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


class Secret:
    """A secret value that never shows itself in a repr, a str, a log line or a report."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)  # scrubbed by value from everything Accord writes

    def reveal(self) -> str:
        """The plain value, for the one place that must send it (an API write, a login)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# -- redaction by field name, then by value -------------------------------------------------------

REDACTED = "***"
SECRET_NAME = re.compile(
    r"(password|passphrase|secret|community|private_key|(^|_)key$|authorization|cookie)",
    re.IGNORECASE,
)


def is_secret_field(name: str) -> bool:
    """Whether a field's value must never be written (``key_id`` is not a secret; ``key`` is)."""
    return bool(SECRET_NAME.search(name))


def redact(value: Any, name: str = "") -> Any:
    """A copy of ``value`` with every secret replaced by ``***`` (empty values stay visible)."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, dict):
        return {scrub_value(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, name) for v in value]
    if name and is_secret_field(name) and value not in ("", None):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    return value
