"""Connecting to vCenter (or vcsim) with pyvmomi, certificate verification on.

The site's CA bundle verifies vCenter's certificate; the password comes from the site's
secrets and goes only into the SOAP login.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pyVim.connect import Disconnect, SmartConnect

from accord.site import Secret


class VsphereError(RuntimeError):
    """vCenter cannot be reached or refused the login; the message names it, no secret."""


def connect(url: str, username: str, password: Secret, ca_bundle: Path | None) -> Any:
    """A logged-in ``ServiceInstance`` (call `disconnect` when done)."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    try:
        return SmartConnect(
            host=parts.hostname,
            port=parts.port or 443,
            user=username,
            pwd=password.reveal(),
            sslContext=context,
            connectionPoolTimeout=30,
        )
    except Exception as exc:  # pyVmomi raises vim faults, OSError, ssl errors...
        if hasattr(exc, "failed_request"):
            raise  # a replay's request that is not in its recording (accord.recording.plugin)
        reason = getattr(exc, "msg", None) or str(exc).splitlines()[0][:200]
        raise VsphereError(f"vCenter {parts.hostname}:{parts.port or 443}: {reason}") from None


def disconnect(si: Any) -> None:
    Disconnect(si)
