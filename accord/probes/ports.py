"""Port probe: what a TCP connection attempt to a node's port meets, as a scanner sees it.

`tcp_connect` tells four outcomes apart, because hardening guides do: a firewall that *drops*
(the SYN goes unanswered: "timed out") is not one that *rejects* (an RST: "reset", which is also
what a closed port answers) nor a network that says the host or net is unreachable (ICMP:
"unreachable"). For an accepted connection it waits briefly for what the server says first
(an SSH server's version line, for instance) without sending anything.

Why a socket and not pytest-testinfra: testinfra's ``host.addr(h).port(p).is_reachable`` runs
``nc -z`` (or bash's ``/dev/tcp`` under ``timeout 1`` when nc is missing) and keeps only the exit
status, so a reset, a timeout and an unreachable network all read as "not reachable", with a
fixed one-second wait and a child process per port. The tests use it as an independent
cross-check of "accepted" versus "not accepted".
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass
from typing import Any, Literal

from accord.network import Endpoint
from accord.probes.wire import waits
from accord.recording.observations import observed

TIMEOUT = 2.0
#: How long an accepted connection is watched for a banner, and how much of it is kept.
BANNER_WAIT = 0.5
BANNER_BYTES = 200

Outcome = Literal["accepted", "reset", "timed out", "unreachable"]

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


@dataclass(frozen=True)
class PortProbe:
    """One TCP connection attempt and what answered it."""

    endpoint: Endpoint
    outcome: Outcome
    elapsed: float
    banner: str | None = None
    closed_by_server: bool = False
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    def observation(self) -> dict[str, Any]:
        return {
            "connected_to": str(self.endpoint),
            "protocol": "tcp",
            "outcome": self.outcome,
            "elapsed_seconds": round(self.elapsed, 3),
            "banner": self.banner,
            "closed_by_server": self.closed_by_server,
            "error": self.error,
        }


def _outcome(exc: OSError) -> Outcome:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError | ConnectionResetError):
        return "reset"
    return "unreachable"


def _banner(sock: socket.socket, wait: float) -> tuple[str | None, bool]:
    """The first line (at most `BANNER_BYTES`) the server sends unprompted within ``wait``
    seconds, and whether it closed the connection."""
    data, closed = b"", False
    deadline = time.monotonic() + wait
    while len(data) < BANNER_BYTES and b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(BANNER_BYTES - len(data))
        except TimeoutError:
            break
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    return (line.decode("utf-8", errors="backslashreplace") if data else None), closed


@waits
@observed
def tcp_connect(
    endpoint: Endpoint, timeout: float = TIMEOUT, *, banner_wait: float = BANNER_WAIT
) -> PortProbe:
    """Open a TCP connection to ``endpoint`` and classify what happened.

    Connection refused (an RST) is "reset", a SYN left unanswered for ``timeout`` seconds is
    "timed out", host or network unreachable (and any other failure, named in ``error``) is
    "unreachable". An accepted connection is watched for ``banner_wait`` seconds, then closed.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            endpoint.host, endpoint.connect_port, type=socket.SOCK_STREAM
        )[0]
    except OSError as exc:
        return PortProbe(endpoint, "unreachable", 0.0, error=f"{type(exc).__name__}: {exc}")
    with socket.socket(family, kind, proto) as sock:
        sock.settimeout(timeout)
        started = time.monotonic()
        try:
            sock.connect(address)
        except OSError as exc:
            elapsed = time.monotonic() - started
            error = f"{type(exc).__name__}: {exc}"
            if exc.errno not in _UNREACHABLE and _outcome(exc) == "unreachable":
                error = f"{error} (not a host or network unreachable error)"
            return PortProbe(endpoint, _outcome(exc), elapsed, error=error)
        elapsed = time.monotonic() - started
        banner, closed = _banner(sock, banner_wait)
    return PortProbe(endpoint, "accepted", elapsed, banner, closed)
