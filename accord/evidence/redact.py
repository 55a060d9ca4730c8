"""One redaction rule for everything Accord writes: observations, reports, logs."""

from __future__ import annotations

import re
from typing import Any

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
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, name) for v in value]
    if name and is_secret_field(name) and value not in ("", None):
        return REDACTED
    return value
