"""One deadline for a whole request, and one budget for a whole run.

requests and pyvmomi have only per-socket-operation timeouts: a server that answers a byte at a
time never trips them. `deadline` watches one call instead: the connection the call registers
(`watch_connection`; every request of an `accord.http.ApiSession` does, through the guarded
connection pools) is shut down by one watchdog thread when the deadline passes, wherever the
call is (the TLS handshake once it is done, the headers, the body), and ``guard.fired`` says why
the call then failed. `RunBudget` is the seconds a whole run may spend asking systems.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from accord.site import Verification

_RETRY_ABORT = 0.02  # seconds between attempts to cut a connection whose socket is not ready


@dataclass(frozen=True)
class Limits:
    """How long one request may take in all, to connect, and how large its answer may be."""

    deadline: float = 60.0
    connect_timeout: float = 10.0
    max_bytes: int = 64 * 2**20

    @classmethod
    def of(cls, verification: Verification) -> Limits:
        """The limits a site's ``[verification]`` section sets."""
        return cls(
            deadline=verification.request_deadline,
            connect_timeout=verification.connect_timeout,
            max_bytes=verification.response_limit * 2**20,
        )


class RunBudget:
    """The seconds a run may spend asking systems, from when it was made (``None``: no limit).
    One per run, shared by every client of the run."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self._ends = math.inf if seconds is None else time.monotonic() + seconds

    @classmethod
    def of(cls, verification: Verification) -> RunBudget:
        return cls(verification.run_budget)

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def spent(self) -> bool:
        return self.remaining() <= 0


class Guard:
    """One request in flight: the connection urllib3 chose for it, and whether its deadline
    has cut it off."""

    def __init__(self, ends: float) -> None:
        self.ends = ends
        self.connection: Any = None
        self.fired = False
        self.active = True

    def abort(self) -> bool:
        """Shut the connection's socket down (any blocked read or write returns at once);
        True when there was no socket to shut yet (try again shortly)."""
        self.fired = True
        sock = getattr(self.connection, "sock", None)
        if not isinstance(sock, socket.socket):
            return True
        try:
            # socket.socket's own shutdown: SSLSocket's would also drop its TLS state under
            # the reading thread's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            return True  # not connected yet, or detached while TLS wraps it
        return False


class _Watchdog:
    """One daemon thread that cuts off every request whose deadline has passed."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, guard: Guard) -> None:
        with self._condition:
            heapq.heappush(self._due, (guard.ends, next(self._order), guard))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="accord-deadline")
                self._thread.daemon = True
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                while self._due and (self._due[0][0] <= now or not self._due[0][2].active):
                    _, _, guard = heapq.heappop(self._due)
                    if guard.active and guard.abort():
                        heapq.heappush(self._due, (now + _RETRY_ABORT, next(self._order), guard))
                wait = self._due[0][0] - now if self._due else None
                self._condition.wait(wait)

    def reset(self) -> None:
        """After a fork: the thread is gone, and the lock may be held by it."""
        self._condition = threading.Condition()
        self._due = []
        self._thread = None


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()  # .guard: the request this thread is making
os.register_at_fork(after_in_child=_WATCHDOG.reset)


@contextmanager
def deadline(seconds: float) -> Iterator[Guard]:
    """Inside, the connection this thread's call registers (`watch_connection`; requests
    through an `ApiSession` always do) is shut down once ``seconds`` have passed: the call then
    fails at once, and ``guard.fired`` says why."""
    guard = Guard(time.monotonic() + seconds)
    _WATCHDOG.watch(guard)
    previous = getattr(_CURRENT, "guard", None)
    _CURRENT.guard = guard
    try:
        yield guard
    finally:
        guard.active = False
        _CURRENT.guard = previous


def watch_connection(connection: Any) -> None:
    """The connection (anything with a ``sock``) that carries this thread's call under
    `deadline`."""
    guard = getattr(_CURRENT, "guard", None)
    if guard is not None:
        guard.connection = connection


def _guarded(pool: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    class Guarded(pool):  # type: ignore[valid-type,misc]
        """Tells the request's guard which connection carries it (new or reused)."""

        def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            watch_connection(conn)
            return super()._make_request(conn, *args, **kwargs)

    Guarded.__name__ = f"Guarded{pool.__name__}"
    return Guarded


POOLS = {"http": _guarded(HTTPConnectionPool), "https": _guarded(HTTPSConnectionPool)}
