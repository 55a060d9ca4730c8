"""Wire observations: what a probe saw, recorded as a file and replayed from it.

A TLS handshake, an SNMP GET or a port probe cannot be replayed as a socket, so each probe
function is marked `@observed`: with no journal active (every ordinary run) it simply runs;
while a scenario is recorded, its arguments and result (or the exception it raised) are
appended to the scenario's journal; while one is replayed, the result is read back from the
journal instead, and a call the journal does not hold fails the scenario naming it.

An observation is found by the probe's name and its arguments (`codec.plain`, scrubbed as
they are written, timeouts left out); several identical calls are replayed in the order they
were recorded. Probes called by another probe are part of it and are not recorded apart.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar, get_type_hints

from accord.recording.codec import decode, encode, plain
from accord.recording.scrub import REDACTED, Scrubber

Mode = Literal["record", "replay"]
P = ParamSpec("P")
R = TypeVar("R")

IGNORED_ARGUMENTS = frozenset({"timeout", "retries", "banner_wait"})
"""How long to wait is not what was observed: a replay may use other timeouts."""

_HIDDEN_FIELDS = ("cookie", "authorization")
"""Field names (besides the scrubber's) whose values are never written: session cookies."""


class NotRecorded(AssertionError):
    """The replayed scenario made a call its recording does not hold. An `AssertionError`, so
    the scenario is reported failed, with this message."""


class Journal:
    """The observations of one scenario: appended while recording, consumed while replaying."""

    def __init__(self, mode: Mode, path: Path, scrubber: Scrubber) -> None:
        self.mode = mode
        self.path = path
        self.scrubber = scrubber
        self._entries: list[dict[str, Any]] = []
        self._left: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._lock = threading.Lock()
        if mode == "replay" and path.is_file():
            try:
                for entry in json.loads(path.read_text())["observations"]:
                    self._left[_key(entry["probe"], entry["call"])].append(entry)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: not an observations file ({exc!r})") from None

    def call(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments as written and matched: plain JSON, scrubbed."""
        return self.scrubber.json(_hide(plain(arguments)))

    def record(self, probe: str, call: dict[str, Any], outcome: dict[str, Any]) -> None:
        entry = {"probe": probe, "call": call, **self.scrubber.json(_hide(outcome))}
        with self._lock:
            self._entries.append(entry)

    def take(self, probe: str, call: dict[str, Any]) -> dict[str, Any]:
        """The next recorded outcome of this call; `NotRecorded` when there is none left."""
        with self._lock:
            left = self._left.get(_key(probe, call))
            if left:
                return left.popleft()
        shown = ", ".join(f"{k}={v!r}" for k, v in call.items())
        raise NotRecorded(
            f"not in the recording ({self.path.name}): {probe}({shown}); a replay makes no "
            "connection, so every probe of the scenario must have been recorded"
        )

    def save(self) -> None:
        """Write the recorded observations (nothing when there were none)."""
        if self.mode != "record" or not self._entries:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"observations": self._entries}, indent=1) + "\n")


_active: Journal | None = None
_inside = threading.local()  # a probe running inside another probe is not recorded apart
_sent = [0]  # probes sent on the wire by this process
_sent_lock = threading.Lock()


def probes_sent() -> int:
    """How many probes this process has sent so far (a replayed probe sends nothing; a probe
    inside another counts as part of it)."""
    return _sent[0]


def _count_sent() -> None:
    with _sent_lock:
        _sent[0] += 1


def activate(journal: Journal | None) -> None:
    """Make ``journal`` the one every `@observed` probe uses (``None``: probes just run). One
    scenario at a time: probes a scenario runs in threads all see it."""
    global _active
    _active = journal


def observed(probe: Callable[P, R]) -> Callable[P, R]:
    """Mark a probe function: recorded while recording, read back while replaying."""
    signature = inspect.signature(probe)
    name = f"{probe.__module__}.{probe.__qualname__}"

    @functools.wraps(probe)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        journal = _active
        if not getattr(_inside, "depth", 0) and (journal is None or journal.mode != "replay"):
            _count_sent()
        if journal is None or getattr(_inside, "depth", 0):
            return probe(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k not in IGNORED_ARGUMENTS}
        call = journal.call(arguments)
        if journal.mode == "replay":
            return _replayed(probe, journal.take(name, call))
        _inside.depth = 1
        try:
            result = probe(*args, **kwargs)
        except Exception as exc:
            journal.record(name, call, {"raised": type(exc).__name__, "message": str(exc)})
            raise
        finally:
            _inside.depth = 0
        journal.record(name, call, {"result": encode(result)})
        return result

    return wrapper


def _replayed(probe: Callable[..., Any], entry: dict[str, Any]) -> Any:
    if "raised" in entry:
        raise _exception(probe, entry["raised"])(entry["message"])
    hint = get_type_hints(probe)["return"]
    return decode(entry["result"], hint, f"{probe.__qualname__}()")


def _exception(probe: Callable[..., Any], name: str) -> type[Exception]:
    """The exception class a recorded probe raised: one its module or the builtins name, else
    `RuntimeError` (a recording names classes; it never imports anything)."""
    found = probe.__globals__.get(name, getattr(builtins, name, None))  # type: ignore[attr-defined]
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    return RuntimeError


def _key(probe: str, call: Any) -> str:
    return probe + json.dumps(call, sort_keys=True)


def _hide(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _hidden(v) if _secret_name(k) else _hide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    return value


def _secret_name(name: str) -> bool:
    return any(word in name.lower() for word in _HIDDEN_FIELDS)


def _hidden(value: Any) -> Any:
    """A cookie header's value, or a cookie jar's values (its names kept)."""
    if isinstance(value, dict):
        return {k: REDACTED for k in value}
    return REDACTED if isinstance(value, str) and value else value
