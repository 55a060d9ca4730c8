"""Sending a run's probes: many at once, and the ones its scenarios will need started early.

A probe that expects silence (a dropped TCP connection, an SNMP request that must go
unanswered) waits out its timeout. Waiting one probe after another, or one scenario after
another, is what made verification slow; so a run's probes share one bounded pool
(``[verification] concurrency`` in the site file), and the probes of every selected scenario
are started together when the run begins (`Wire.start`): by the time a step asks for its
results (`Wire.results`) most of them have arrived, and the run waits for silence about once.

Probes are of two kinds. Most keep a processor busy while in flight (a TLS handshake, an HTTPS
request): more than a few dozen at once only queue for it (Python runs one thread at a time),
and a simulator serving every node from one process then answers them too late. Others mostly
wait (a TCP connection that must time out, an SNMP request that must go unanswered: functions
marked `waits`). So a run's ``concurrency`` is shared: at most `ACTIVE` (and at most half of
it) busy probes at once, the rest for waiting ones.

A probe is a `Probe`: the function that sends it and its arguments, hashable, so that a step
asking for a probe the run already started gets that probe's result rather than sending it
again. Only the verified systems' probes are started early; they are read-only and what they
see does not change during a run. A step of the guides' actions (which changes a scratch
system between two probes) asks with ``fresh=True``.

While a run is recorded or replayed (`accord.recording`) each scenario must send its own
probes, in its own cassette: a `Wire` made with ``share=False`` starts nothing early and
remembers nothing, and only runs a step's probes concurrently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Probe(Generic[T]):
    """One probe: ``send(*args, **kwargs)``. Its arguments must be hashable."""

    send: Callable[..., T]
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]

    def __call__(self) -> T:
        return self.send(*self.args, **dict(self.kwargs))


def probe(send: Callable[..., T], *args: Any, **kwargs: Any) -> Probe[T]:
    """The probe ``send(*args, **kwargs)`` (sent when a `Wire` runs it)."""
    return Probe(send, args, tuple(sorted(kwargs.items())))


Named = Sequence[tuple[str, Probe[T]]]
ACTIVE = 64  # busy probes in flight at most (see the module doc)
F = TypeVar("F", bound=Callable[..., Any])


def waits(send: F) -> F:
    """Mark a probe function that mostly waits (for a timeout or a late answer) rather than
    keeping a processor busy."""
    send.waits = True  # type: ignore[attr-defined]
    return send


class Wire:
    """A run's probes: at most ``concurrency`` in flight, each verified system's probe sent once.

    Thread-safe. `close` waits for the probes in flight and cancels those not yet sent.
    """

    def __init__(self, concurrency: int, *, share: bool = True) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self.share = share
        active = max(1, min(ACTIVE, concurrency // 2))
        self._pool = ThreadPoolExecutor(max_workers=active, thread_name_prefix="accord-wire")
        self._waiting = ThreadPoolExecutor(
            max_workers=max(1, concurrency - active), thread_name_prefix="accord-wire-wait"
        )
        self._started: dict[Probe[Any], Future[Any]] = {}
        self._lock = threading.Lock()

    def _submit(self, one: Probe[T]) -> Future[T]:
        pool = self._waiting if getattr(one.send, "waits", False) else self._pool
        return pool.submit(one)

    def _future(self, one: Probe[T], fresh: bool) -> Future[T]:
        if fresh or not self.share:
            return self._submit(one)
        with self._lock:
            found = self._started.get(one)
        if found is None:
            found = self._submit(one)
            with self._lock:
                found = self._started.setdefault(one, found)
        return found

    def start(self, probes: Iterable[Probe[Any]]) -> None:
        """Start probes a later step will ask for (nothing while recording or replaying)."""
        if self.share:
            for one in probes:
                self._future(one, fresh=False)

    def results(self, named: Named[T], *, fresh: bool = False) -> list[tuple[str, T]]:
        """Each probe's result (or the exception it raised), by name, in the given order; all
        of them in flight at once. ``fresh``: send them now even if the run already did."""
        futures = [(name, self._future(one, fresh)) for name, one in named]
        return [(name, future.result()) for name, future in futures]

    def each(self, calls: Sequence[tuple[str, Callable[[], T]]]) -> list[tuple[str, T]]:
        """Run some calls concurrently in the same pool (logins, logouts): results by name."""
        futures = [(name, self._pool.submit(call)) for name, call in calls]
        return [(name, future.result()) for name, future in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._waiting.shutdown(wait=True, cancel_futures=True)
