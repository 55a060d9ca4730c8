"""Real SNMP agents for simulated Pexip nodes: one pysnmp engine per node, UDP on loopback.

What is modelled, from Pexip's management API (``snmp_mode`` and the ``snmp_*`` fields of a
node) and the Secure Mode Deployment Guide:

- ``AUTHPRIV`` (the UI's "SNMPv3 read-only"): one SNMPv3 user, ``username``, with HMAC-SHA-96
  ("SHA1") authentication and AES-128 (CFB) privacy, security level authPriv, read-only. Every
  other request gets no data: SNMPv1/v2c requests are dropped whatever their community (no
  answer at all), and MD5/DES, wrong keys, an unknown user or a lower security level get only
  pysnmp's USM reports (never a varbind).
- ``STANDARD`` (the UI's "SNMPv2c read-only"): SNMPv1 and v2c, read-only, with ``community``
  only; no SNMPv3 user.
- ``DISABLED``: no agent; nothing is bound on the port.

Each agent answers GET, GETNEXT and GETBULK (so ``snmpget`` and ``snmpwalk`` work) over the
SNMPv2-MIB system group: ``sysDescr``, ``sysObjectID``, ``sysUpTime`` (since the agent started),
``sysContact``, ``sysName``, ``sysLocation``, with the node's values. SET requests get no
answer (a read-only net-snmp would answer with an error; either way nothing changes).

Two wire faults, for tests that need a misbehaving node: ``also_v2c`` also answers SNMPv1/v2c
with ``community`` (even in AUTHPRIV mode), and ``also_md5_des`` also accepts the same user
name and passwords with HMAC-MD5-96 and DES (AUTHPRIV mode only; DISABLED stays unbound). USM
allows one protocol pair per user, so the MD5/DES user lives in a second engine with the same
engine ID behind the same socket; a request goes there only when its HMAC-MD5 digest is valid
for that user.

INFERRED (not documented by Pexip): the ``sysDescr`` text (the caller chooses it); that a node
runs net-snmp, hence ``sysObjectID`` 1.3.6.1.4.1.8072.3.2.10 (net-snmp, Linux) and a net-snmp
style random engine ID, new at each (re)start; that an AUTHPRIV node ignores v1/v2c entirely
rather than answering with an error; that SNMPv3 passwords shorter than 8 characters (RFC 3414
and net-snmp's minimum) configure no user; that an empty community
configures no community. The read view is 1.3.6.1 minus the agent's own configuration tables
(community, USM, VACM and pysnmp's subtree), which hold the community and the keys.

`SnmpAgents.apply` makes the running agents match what the nodes want; `SnmpAgents.close` stops
them all. pysnmp is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.snmpengine import new_engine

LOG = logging.getLogger(__name__)

DISABLED, STANDARD, AUTHPRIV = "DISABLED", "STANDARD", "AUTHPRIV"
MODES = (DISABLED, STANDARD, AUTHPRIV)
MIN_PASSWORD = 8  # RFC 3414 section 11.2; net-snmp refuses shorter pass phrases
SYS_OBJECT_ID = (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)  # net-snmp on Linux (INFERRED)
READ_VIEW = (1, 3, 6, 1)
HIDDEN_SUBTREES = (
    (1, 3, 6, 1, 6, 3, 15),  # SNMP-USER-BASED-SM-MIB
    (1, 3, 6, 1, 6, 3, 16),  # SNMP-VIEW-BASED-ACM-MIB
    (1, 3, 6, 1, 6, 3, 18),  # SNMP-COMMUNITY-MIB (holds the community)
    (1, 3, 6, 1, 4, 1, 20408),  # pysnmp's own subtree (holds the USM keys)
)
COMMUNITY_NAME = "node-community"  # the community's security name (not the community)
SWITCH_TIMEOUT = 30.0  # seconds apply waits for the loop to bind or unbind
AGENT_TIMER = 5.0  # seconds between an agent engine's timer ticks (pysnmp: 0.1)


@dataclass(frozen=True)
class AgentConfig:
    """One node's SNMP settings, as Pexip's API names them, plus two wire-fault switches."""

    mode: str
    community: str = field(repr=False)
    username: str
    authentication_password: str = field(repr=False)
    privacy_password: str = field(repr=False)
    system_description: str
    system_name: str
    contact: str
    location: str
    also_v2c: bool = False
    also_md5_des: bool = False


Wanted = tuple[str, int, AgentConfig]


def _master_key(password: str, algorithm: str) -> bytes:
    """RFC 3414 A.2 password-to-key: the digest of the password repeated over 1 MiB.

    Raises ``ValueError`` for an empty password.
    """
    data = password.encode()
    if not data:
        raise ValueError("an empty password has no key")
    expanded = 1024 * 1024
    return hashlib.new(algorithm, (data * (expanded // len(data) + 1))[:expanded]).digest()


def _localized_key(key: bytes, engine_id: bytes, algorithm: str) -> bytes:
    """RFC 3414 A.2 key localization: ``digest(Ku + engineID + Ku)``."""
    return hashlib.new(algorithm, key + engine_id + key).digest()


def _new_engine_id() -> bytes:
    """A net-snmp style engine ID: enterprise 8072, format 128 (random), 8 random octets."""
    return b"\x80\x00\x1f\x88\x80" + os.urandom(8)


def _usable_user(config: AgentConfig) -> bool:
    """Whether the config's SNMPv3 user can exist (a name and two long enough passwords)."""
    return bool(config.username) and all(
        len(p) >= MIN_PASSWORD for p in (config.authentication_password, config.privacy_password)
    )


def _is_ip(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address (agents bind addresses, not names)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _Md5Matcher:
    """Whether a datagram is an SNMPv3 message for the MD5 user with a valid HMAC-MD5 digest."""

    def __init__(self, username: str, password: str, engine_id: bytes) -> None:
        self._username = username.encode()
        self._key = _localized_key(_master_key(password, "md5"), engine_id, "md5")

    def __repr__(self) -> str:
        return "_Md5Matcher()"

    def __call__(self, datagram: bytes) -> bool:
        """True when ``datagram`` authenticates as the MD5 user; never raises."""
        from pyasn1.codec.ber import decoder
        from pyasn1.error import PyAsn1Error
        from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
        from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

        try:
            message, _ = decoder.decode(datagram, asn1Spec=SNMPv3Message())
            flags = message["msgGlobalData"]["msgFlags"].asOctets()
            if int(message["msgVersion"]) != 3 or not flags or not flags[0] & 1:
                return False  # not SNMPv3, or not authenticated
            params, _ = decoder.decode(
                message["msgSecurityParameters"].asOctets(), asn1Spec=UsmSecurityParameters()
            )
        except (PyAsn1Error, ValueError, TypeError, KeyError):
            return False
        if params["msgUserName"].asOctets() != self._username:
            return False
        digest = params["msgAuthenticationParameters"].asOctets()
        at = datagram.find(digest) if len(digest) == 12 else -1
        if at < 0:
            return False
        zeroed = datagram[:at] + bytes(12) + datagram[at + 12 :]
        expected = hmac.new(self._key, zeroed, "md5").digest()[:12]
        return hmac.compare_digest(expected, digest)


def _configure_engine(
    engine_id: bytes, config: AgentConfig, *, md5_des: bool, community: bool
) -> Any:
    """A pysnmp SnmpEngine serving the config's system group to its user and/or community.

    ``md5_des`` picks HMAC-MD5/DES instead of HMAC-SHA/AES for the SNMPv3 user (added only in
    AUTHPRIV mode when usable); ``community`` adds SNMPv1/v2c with the config's community.
    Raises pysnmp's or pyasn1's errors when a value does not fit the MIB (e.g. a sysDescr
    longer than 255 characters).
    """
    from pysnmp.entity import config as cfg
    from pysnmp.entity.rfc3413 import cmdrsp, context

    engine = new_engine()
    builder = engine.get_mib_builder()
    (id_object,) = builder.import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineID")
    id_object.syntax = id_object.syntax.clone(engine_id)
    engine.snmpEngineID = id_object.syntax
    values = {
        "sysDescr": config.system_description,
        "sysObjectID": SYS_OBJECT_ID,
        "sysContact": config.contact,
        "sysName": config.system_name,
        "sysLocation": config.location,
    }
    for name, value in values.items():
        (instance,) = builder.import_symbols("__SNMPv2-MIB", name)
        instance.syntax = instance.syntax.clone(value)
    cfg.add_context(engine, b"")
    cfg.add_vacm_view(engine, "node-view", "included", READ_VIEW, b"")
    for subtree in HIDDEN_SUBTREES:
        cfg.add_vacm_view(engine, "node-view", "excluded", subtree, b"")
    if config.mode == AUTHPRIV and _usable_user(config):
        algorithm = "md5" if md5_des else "sha1"
        cfg.add_v3_user(
            engine,
            config.username,
            cfg.USM_AUTH_HMAC96_MD5 if md5_des else cfg.USM_AUTH_HMAC96_SHA,
            _master_key(config.authentication_password, algorithm),
            cfg.USM_PRIV_CBC56_DES if md5_des else cfg.USM_PRIV_CFB128_AES,
            _master_key(config.privacy_password, algorithm),
            authKeyType=cfg.USM_KEY_TYPE_MASTER,
            privKeyType=cfg.USM_KEY_TYPE_MASTER,
        )
        _grant(engine, 3, config.username, 3)
    if community and config.community:
        cfg.add_v1_system(engine, COMMUNITY_NAME, config.community)
        for model in (1, 2):
            _grant(engine, model, COMMUNITY_NAME, 1)
    snmp_context = context.SnmpContext(engine)
    for responder in (
        cmdrsp.GetCommandResponder,
        cmdrsp.NextCommandResponder,
        cmdrsp.BulkCommandResponder,
    ):
        responder(engine, snmp_context)
    return engine


def _grant(engine: Any, model: int, security_name: str, level: int) -> None:
    """Give ``security_name`` under security ``model`` read access to the node's view only."""
    from pysnmp.entity import config as cfg

    group = f"node-readers-{model}"
    cfg.add_vacm_group(engine, group, model, security_name)
    cfg.add_vacm_access(engine, group, b"", model, level, "exact", "node-view", "", "")


def _build_engines(config: AgentConfig) -> tuple[Any, Any | None, _Md5Matcher | None]:
    """The engines one agent runs: the main one and, with ``also_md5_des``, the MD5/DES one.

    Returns ``(main, md5_engine, md5_matcher)`` (the last two ``None`` unless the fault is on
    in AUTHPRIV mode with a usable user). Raises what `_configure_engine` raises.
    """
    engine_id = _new_engine_id()
    community = config.mode == STANDARD or config.also_v2c
    main = _configure_engine(engine_id, config, md5_des=False, community=community)
    if not (config.mode == AUTHPRIV and config.also_md5_des and _usable_user(config)):
        return main, None, None
    alternate = _configure_engine(engine_id, config, md5_des=True, community=False)
    boots = main.get_mib_builder().import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineBoots")[0]
    alt_boots = alternate.get_mib_builder().import_symbols(
        "__SNMP-FRAMEWORK-MIB", "snmpEngineBoots"
    )[0]
    alt_boots.syntax = alt_boots.syntax.clone(int(boots.syntax))
    matcher = _Md5Matcher(config.username, config.authentication_password, engine_id)
    return main, alternate, matcher


def _community_version(datagram: bytes) -> bool:
    """Whether ``datagram`` is an SNMPv1 or v2c message (a community's): its BER header
    ``SEQUENCE { version INTEGER (0 or 1), ...`` read without decoding the rest."""
    if len(datagram) < 5 or datagram[0] != 0x30:
        return False
    length = datagram[1]
    at = 2 + (length & 0x7F if length & 0x80 else 0)
    return datagram[at : at + 2] == b"\x02\x01" and datagram[at + 2 : at + 3] in (b"\x00", b"\x01")


class _Router(asyncio.DatagramProtocol):
    """Owns one agent's UDP socket and hands each datagram to the engine it is for.

    An agent that serves no community (SNMPv3 read-only, ``v3_only``) drops SNMPv1/v2c
    messages here, unread, as its engine would after decoding them: the same silence at a
    fraction of the cost (a deployment of hundreds of nodes gets thousands of them at once).
    """

    def __init__(
        self,
        main: Any,
        alternate: Any | None,
        matcher: _Md5Matcher | None,
        loop: asyncio.AbstractEventLoop,
        v3_only: bool = False,
    ) -> None:
        self.main, self.alternate, self.matcher = main, alternate, matcher
        self.v3_only = v3_only
        self.closed: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Let the engines' pysnmp transports send through this socket."""
        for carrier in (self.main, self.alternate):
            if carrier is not None:
                carrier.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Pass ``data`` to the MD5/DES engine if it authenticates there, else to the main one."""
        if self.v3_only and _community_version(data):
            return
        target = self.main
        if self.alternate is not None and self.matcher is not None and self.matcher(data):
            target = self.alternate
        target.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors for answers sent to clients that went away."""

    def connection_lost(self, exc: Exception | None) -> None:
        """Note that the socket is closed (the port is free)."""
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class _Running:
    """One bound agent: what it was started with, its socket and its engines."""

    wanted: Wanted
    transport: asyncio.DatagramTransport
    router: _Router
    engines: tuple[Any, ...]


@dataclass
class _Start:
    """An agent about to start: what is wanted and its engines, built off the loop."""

    key: Hashable
    wanted: Wanted
    engines: tuple[Any, Any | None, _Md5Matcher | None]


class SnmpAgents:
    """Any number of SNMP agents on one background thread running one asyncio event loop.

    Thread-safe. The thread starts at the first `apply` that needs an agent and stops at
    `close` (a later `apply` starts a new one).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._running: dict[Hashable, _Running] = {}

    def __repr__(self) -> str:
        return f"SnmpAgents(running={sorted(map(str, self._running))})"

    def bound(self) -> dict[Hashable, tuple[str, int]]:
        """Where each running agent listens, by key."""
        with self._lock:
            return {key: agent.wanted[:2] for key, agent in self._running.items()}

    def apply(self, wanted: Mapping[Hashable, Wanted | None]) -> dict[Hashable, str]:
        """Make the running agents match ``wanted`` (key → ``(host, port, config)`` or None).

        New keys start, changed ones (host, port or config) restart, keys that are None, in
        DISABLED mode or absent stop. Returns once every agent is bound or unbound, with the
        problems by key, also logged: an agent not started (not an IP address, unknown mode,
        an address that cannot be bound, a config pysnmp refuses), tried again at the next
        `apply`, or an AUTHPRIV agent started without its user (reported when it starts).
        Messages name the address, never a secret. Raises ``TimeoutError`` if the loop does
        not answer within ``SWITCH_TIMEOUT`` seconds.
        """
        with self._lock:
            problems: dict[Hashable, str] = {}
            live: dict[Hashable, Wanted] = {}
            for key, item in wanted.items():
                if item is None or item[2].mode == DISABLED:
                    continue
                host, port, config = item
                if not _is_ip(host):
                    problems[key] = f"{host}:{port}: not an IP address"
                elif config.mode not in MODES:
                    problems[key] = f"{host}:{port}: unknown SNMP mode {config.mode!r}"
                else:
                    live[key] = item
            stops = [
                key
                for key, agent in self._running.items()
                if key not in live or live[key] != agent.wanted
            ]
            starts: list[_Start] = []
            for key, item in live.items():
                if key in self._running and key not in stops:
                    continue
                if item[2].mode == AUTHPRIV and not _usable_user(item[2]):
                    problems[key] = (
                        f"{item[0]}:{item[1]}: started without its SNMPv3 user"
                        f" (no name, or a password shorter than {MIN_PASSWORD} characters)"
                    )
                try:
                    starts.append(_Start(key, item, _build_engines(item[2])))
                except Exception as exc:  # pysnmp and pyasn1 raise many types
                    problems[key] = f"{item[0]}:{item[1]}: cannot configure ({type(exc).__name__})"
            if stops or starts:
                loop = self._ensure_loop()
                future = asyncio.run_coroutine_threadsafe(self._switch(stops, starts), loop)
                problems.update(future.result(timeout=SWITCH_TIMEOUT))
            for key, message in problems.items():
                LOG.warning("SNMP agent %s: %s", key, message)
            return problems

    def close(self) -> None:
        """Stop every agent and the loop thread. Idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            future = asyncio.run_coroutine_threadsafe(self._switch(list(self._running), []), loop)
            try:
                future.result(timeout=SWITCH_TIMEOUT)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=SWITCH_TIMEOUT)
                loop.close()
                self._loop = self._thread = None
                self._running.clear()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """The loop thread, started if needed (the caller holds the lock)."""
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="snmp-agents", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    async def _switch(self, stops: list[Hashable], starts: list[_Start]) -> dict[Hashable, str]:
        """On the loop: stop then start agents; the problems of those that could not bind."""
        for key in stops:
            await _stop(self._running.pop(key))
        problems: dict[Hashable, str] = {}
        for start in starts:
            try:
                self._running[start.key] = await _start(start)
            except OSError as exc:
                host, port, _ = start.wanted
                problems[start.key] = f"{host}:{port}: cannot bind ({exc.strerror or exc})"
            except Exception as exc:  # an agent pysnmp cannot start must not stop the others
                host, port, _ = start.wanted
                problems[start.key] = f"{host}:{port}: cannot start ({type(exc).__name__})"
        return problems


async def _start(start: _Start) -> _Running:
    """Bind the agent's socket and attach its engines (on the loop).

    Raises ``OSError`` when the address cannot be bound, pysnmp's errors if it cannot attach;
    either way nothing stays bound or registered.
    """
    from pysnmp.carrier.asyncio.dgram import udp, udp6
    from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
    from pysnmp.entity import config as cfg

    loop = asyncio.get_running_loop()
    host, port, _ = start.wanted
    if ipaddress.ip_address(host).version == 6:
        family, domain, carrier_type = socket.AF_INET6, udp6.DOMAIN_NAME, udp6.Udp6AsyncioTransport
    else:
        family, domain, carrier_type = socket.AF_INET, udp.DOMAIN_NAME, udp.UdpAsyncioTransport
    main, alternate, matcher = start.engines
    engines = tuple(engine for engine in (main, alternate) if engine is not None)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
        carriers = []
        for engine in engines:
            carriers.append(carrier_type(loop=loop))
            dispatcher = AsyncioDispatcher(loop=loop)
            # pysnmp ticks every engine's timer ten times a second to expire its caches; an
            # agent keeps nothing that needs it that often, and hundreds of ticking agents
            # (one per simulated node) took most of the simulator's time.
            dispatcher.set_timer_resolution(AGENT_TIMER)
            engine.register_transport_dispatcher(dispatcher)
            cfg.add_transport(engine, domain, carriers[-1])
        config = start.wanted[2]
        v3_only = config.mode == AUTHPRIV and not config.also_v2c
        router = _Router(carriers[0], carriers[1] if alternate else None, matcher, loop, v3_only)
        transport, _ = await loop.create_datagram_endpoint(lambda: router, sock=sock)
    except BaseException:
        sock.close()
        for engine in engines:
            engine.close_dispatcher()
        raise
    return _Running(start.wanted, transport, router, engines)


async def _stop(agent: _Running) -> None:
    """Close the agent's socket (waiting until the port is free) and its engines."""
    agent.transport.close()
    await agent.router.closed
    for engine in agent.engines:
        engine.close_dispatcher()
