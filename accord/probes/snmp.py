"""SNMP probe: one GET over UDP to a node's agent, and what came back.

`get` sends one SNMP GET request (SNMPv3 with a user, or SNMPv1/v2c with a community) to an
`Endpoint` with pysnmp and returns an `SnmpObservation`. Every probe of a process runs on one
event loop in a daemon thread, so that any number of them wait at the same time. Each probe
has a fresh SNMP engine (nothing learnt from an earlier probe, such as an agent's engine ID, is
reused), except inside `shared_engines()`: a verification run, whose agents do not restart,
shares one engine per set of credentials there (an engine costs about 16 ms to make; a fresh
one per probe would cost a run of 500 nodes a minute). Outcomes:

- ``answered``: the agent returned a value for the OID (``value``).
- ``no answer``: nothing came back before the timeout (and its retries): the port is closed or
  dropped, or the agent ignores this version or community.
- ``refused``: the agent replied without the value: a report (authentication failure, unknown
  user, unsupported security level, decryption error...), an error-status, or an exception
  value such as noSuchObject; ``detail`` says which.

What the probe sent is recorded without its secrets: the version, security level, user name
(a community is shown only as "community (redacted)"), protocols and OID. Passwords and
communities never reach an observation, a repr or a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import threading
from collections.abc import Coroutine, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from accord.network import Endpoint
from accord.probes.wire import waits
from accord.recording.observations import observed
from accord.snmpengine import new_engine

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
REDACTED_COMMUNITY = "community (redacted)"
MIN_PASSWORD = 8  # RFC 3414 section 11.2 (pysnmp refuses shorter ones)
# Requests in flight on one shared engine: pysnmp's engine loses answers when hundreds of
# requests (and engine ID discoveries) to as many agents are in flight at once (seen with
# 200 of 500 simulated nodes); 64 at a time answered all of them, faster.
PER_ENGINE = 128
SHARED_TIMER = 0.25  # seconds between a shared engine's timer ticks (pysnmp: 0.1)
Outcome = Literal["answered", "no answer", "refused"]
AUTH_NAMES = {"SHA": "HMAC-SHA-96 (SHA1)", "MD5": "HMAC-MD5-96"}
PRIV_NAMES = {"AES": "CFB128-AES-128", "DES": "CBC-DES"}


class SnmpProbeError(RuntimeError):
    """The probe itself failed (not the agent): pysnmp's error, its message without secrets."""


@dataclass(frozen=True)
class SnmpV3User:
    """An SNMPv3 user with authentication and privacy (authPriv) and its protocols."""

    username: str
    authentication_password: str = field(repr=False)
    privacy_password: str = field(repr=False)
    authentication: Literal["SHA", "MD5"] = "SHA"
    privacy: Literal["AES", "DES"] = "AES"


@dataclass(frozen=True)
class SnmpObservation:
    """What one SNMP GET showed: where it went, what was sent (no secret), what came back."""

    endpoint: Endpoint
    sent: dict[str, Any]
    outcome: Outcome
    value: str | None = None
    detail: str | None = None

    @property
    def answered(self) -> bool:
        """Whether the agent returned a value for the OID."""
        return self.outcome == "answered"

    def observation(self) -> dict[str, Any]:
        """The observation as the evidence shows it."""
        return {
            "endpoint": str(self.endpoint),
            "sent": dict(self.sent),
            "outcome": self.outcome,
            "value": self.value,
            "detail": self.detail,
        }


def describe_request(
    credentials: SnmpV3User | str, oid: str, version: Literal["v1", "v2c"] = "v2c"
) -> dict[str, Any]:
    """What a request with ``credentials`` sends, as the evidence shows it (no secret)."""
    if isinstance(credentials, SnmpV3User):
        return {
            "version": "v3",
            "security_level": "authPriv",
            "user": credentials.username,
            "authentication": AUTH_NAMES[credentials.authentication],
            "privacy": PRIV_NAMES[credentials.privacy],
            "oid": oid,
        }
    return {
        "version": version,
        "security_level": "noAuthNoPriv",
        "user": REDACTED_COMMUNITY,
        "authentication": None,
        "privacy": None,
        "oid": oid,
    }


@waits
@observed
def get(
    endpoint: Endpoint,
    credentials: SnmpV3User | str,
    *,
    oid: str = SYS_DESCR,
    version: Literal["v1", "v2c"] = "v2c",
    timeout: float = 2.0,
    retries: int = 0,
) -> SnmpObservation:
    """GET ``oid`` from ``endpoint.host:endpoint.connect_port`` over UDP.

    ``credentials`` is an SNMPv3 user (authPriv) or a community string, sent as ``version``
    (v1 or v2c; ignored for a user). Works from synchronous code and from any thread (when the
    calling thread already runs an event loop, the probe runs in a helper thread). Raises
    ``ValueError`` for an unknown version or protocol, a password shorter than 8 characters,
    or an OID that is not dotted numbers; `SnmpProbeError` when pysnmp fails locally (e.g. a
    host it cannot resolve), its message scrubbed of the password or community.
    """
    if version not in ("v1", "v2c"):
        raise ValueError(f"unknown SNMP version for a community: {version!r}")
    if isinstance(credentials, SnmpV3User):
        if credentials.authentication not in AUTH_NAMES or credentials.privacy not in PRIV_NAMES:
            raise ValueError("unknown SNMPv3 authentication or privacy protocol")
        passwords = (credentials.authentication_password, credentials.privacy_password)
        if min(map(len, passwords)) < MIN_PASSWORD:
            raise ValueError(f"SNMPv3 passwords have at least {MIN_PASSWORD} characters")
    if not oid or not all(part.isdigit() for part in oid.split(".")):
        raise ValueError(f"not a numeric OID: {oid!r}")
    return _LOOP.run(_get(endpoint, credentials, oid, version, timeout, retries))


T = TypeVar("T")


class _SharedLoop:
    """One event loop in a daemon thread for every SNMP probe of the process, and while
    engines are shared, one engine per set of credentials (made on the loop, at first use). A
    child process made by ``fork`` starts a loop of its own (the parent's thread does not
    survive the fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # (engine, its bound on requests in flight), by credentials, while engines are shared
        self.engines: dict[Hashable, tuple[Any, asyncio.Semaphore]] | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the shared loop and wait for it (from any thread but the
        loop's own)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="accord-snmp", daemon=True
                ).start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def forget(self) -> None:
        """After ``fork``: the loop and its engines belong to the parent."""
        self._lock = threading.Lock()
        self._loop = None
        self.engines = None

    def close_engines(self) -> None:
        engines, self.engines = self.engines, None
        if engines and self._loop is not None:
            for engine, _ in engines.values():
                self._loop.call_soon_threadsafe(engine.close_dispatcher)


_LOOP = _SharedLoop()
os.register_at_fork(after_in_child=_LOOP.forget)


@contextmanager
def shared_engines() -> Iterator[None]:
    """Within: probes with the same credentials share one SNMP engine, which remembers what it
    learnt of each agent. Only for a run whose agents do not restart (a verification run): an
    agent that restarted with a new engine ID does not answer a request meant for the old one."""
    _LOOP.engines = {}
    try:
        yield
    finally:
        _LOOP.close_engines()


def _engine(credentials: SnmpV3User | str, version: str) -> tuple[Any, asyncio.Semaphore | None]:
    """The engine for a probe (on the loop's thread), and the bound on its requests in flight
    when it is shared (None: the probe's own engine, closed after it)."""
    engines = _LOOP.engines
    if engines is None:
        return new_engine(), None
    key = (credentials, version)
    if key not in engines:
        from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher

        engine = new_engine()
        # pysnmp checks every request in flight for its timeout at each tick of the engine's
        # timer (ten a second): with hundreds in flight that was a sixth of a large run's
        # time. Timeouts are converted with the resolution, so only their grain changes.
        dispatcher = AsyncioDispatcher(loop=asyncio.get_running_loop())
        dispatcher.set_timer_resolution(SHARED_TIMER)
        engine.register_transport_dispatcher(dispatcher)
        engines[key] = (engine, asyncio.Semaphore(PER_ENGINE))
    return engines[key]  # type: ignore[no-any-return]


async def _get(
    endpoint: Endpoint,
    credentials: SnmpV3User | str,
    oid: str,
    version: Literal["v1", "v2c"],
    timeout: float,
    retries: int,
) -> SnmpObservation:
    """The request itself, on the shared loop, with the engine of these credentials."""
    from pysnmp.hlapi.v3arch.asyncio import (
        ContextData,
        ObjectIdentity,
        ObjectType,
        Udp6TransportTarget,
        UdpTransportTarget,
        get_cmd,
    )
    from pysnmp.proto.errind import RequestTimedOut
    from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

    sent = describe_request(credentials, oid, version)
    secrets = _secrets(credentials)
    target_type = UdpTransportTarget
    try:
        if ipaddress.ip_address(endpoint.host).version == 6:
            target_type = Udp6TransportTarget
    except ValueError:
        pass  # a host name: IPv4
    engine, limit = _engine(credentials, version)
    try:
        async with limit or contextlib.nullcontext():  # the timeout runs from the sending
            target = await target_type.create(
                (endpoint.host, endpoint.connect_port), timeout=timeout, retries=retries
            )
            indication, status, index, bindings = await get_cmd(
                engine,
                _auth_data(credentials, version),
                target,
                ContextData(),
                ObjectType(ObjectIdentity(oid)),
            )
    except Exception as exc:  # pysnmp's messages may quote what it was given: scrub them
        message = _scrub(f"SNMP GET to {endpoint} failed: {type(exc).__name__}: {exc}", secrets)
        raise SnmpProbeError(message) from None
    finally:
        if limit is None:
            engine.close_dispatcher()
    if isinstance(indication, RequestTimedOut):
        attempts = retries + 1
        detail = f"no response within {timeout:g} s ({attempts} attempt{'s' * (attempts > 1)})"
        return SnmpObservation(endpoint, sent, "no answer", detail=detail)
    if indication:
        return SnmpObservation(endpoint, sent, "refused", detail=_scrub(str(indication), secrets))
    if status:
        detail = f"error-status {status.prettyPrint()} at index {int(index)}"
        return SnmpObservation(endpoint, sent, "refused", detail=_scrub(detail, secrets))
    value = bindings[0][1]
    if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView):
        detail = type(value).__name__[0].lower() + type(value).__name__[1:]
        return SnmpObservation(endpoint, sent, "refused", detail=detail)
    return SnmpObservation(endpoint, sent, "answered", value=value.prettyPrint())


def _auth_data(credentials: SnmpV3User | str, version: Literal["v1", "v2c"]) -> Any:
    """pysnmp's UsmUserData or CommunityData for ``credentials``."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        UsmUserData,
        usmAesCfb128Protocol,
        usmDESPrivProtocol,
        usmHMACMD5AuthProtocol,
        usmHMACSHAAuthProtocol,
    )

    if isinstance(credentials, str):
        return CommunityData(credentials, mpModel=0 if version == "v1" else 1)
    return UsmUserData(
        credentials.username,
        authKey=credentials.authentication_password,
        privKey=credentials.privacy_password,
        authProtocol={"SHA": usmHMACSHAAuthProtocol, "MD5": usmHMACMD5AuthProtocol}[
            credentials.authentication
        ],
        privProtocol={"AES": usmAesCfb128Protocol, "DES": usmDESPrivProtocol}[credentials.privacy],
    )


def _secrets(credentials: SnmpV3User | str) -> tuple[str, ...]:
    """The secret strings a message about ``credentials`` must not contain."""
    if isinstance(credentials, str):
        return (credentials,) if credentials else ()
    return tuple(
        s for s in (credentials.authentication_password, credentials.privacy_password) if s
    )


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
