"""One redaction rule for everything Accord writes: observations, reports, logs.

By field name (a value under ``password``, ``key``, ``community``... is never shown), then by
value: every secret Accord knows, in every form it travels in (`accord.evidence.secrecy`), is
scrubbed from every string that is left.
"""

from __future__ import annotations

import re
from typing import Any

from accord.evidence import secrecy
from accord.site import Secret

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
        return {secrecy.scrub_value(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, name) for v in value]
    if name and is_secret_field(name) and value not in ("", None):
        return REDACTED
    if isinstance(value, str):
        return secrecy.scrub(value)
    return value
