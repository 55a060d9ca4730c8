"""The Management Node's LDAP lookups: find an administrator and check a password, with ldap3.

The settings are the ``authentication`` resource's fields (``configuration/v1/authentication/1/``):
``ldap_server``, ``ldap_base_dn``, ``ldap_bind_username``, ``ldap_bind_password``,
``ldap_permit_no_tls`` (the UI's "Allow insecure transport"), ``ldap_user_search_dn``,
``ldap_user_filter``, ``ldap_user_search_filter``, ``ldap_user_group_attributes``,
``ldap_group_search_dn``, ``ldap_group_filter``, ``ldap_group_membership_filter`` and
``ldap_use_global_catalog``; a missing (None) field takes Pexip's default (`DEFAULTS`).

`Directory.find` binds as the bind account and searches under the user search DN for
``(&<user filter><user search filter>)``, ``{username}`` replaced by the identity (a login name,
or a client certificate's CN or UPN). The user's groups are the values of its group attributes
(``memberOf``) plus the groups found under the group search DN with ``(&<group filter><group
membership filter>)``, ``{userdn}`` and ``{useruid}`` replaced by the user's DN and ``uid`` (or
``sAMAccountName``). Every substituted value is escaped (RFC 4515), so an identity such as
``*)(uid=*`` matches nothing. `Directory.authenticate` then binds as the user's DN with the
password; an empty password is refused before any bind (an empty simple bind is an anonymous
one, which LDAP servers accept).

Transport: StartTLS on the LDAP port, else LDAPS; the server's certificate must chain to one of
``trusted()`` (the Management Node's trusted CA certificates, nothing else) and name
``ldap_server`` (OpenSSL's host name check; the address connected to does not count). Failing
TLS never falls back to plain LDAP unless ``ldap_permit_no_tls`` is set; then it does. Connect
timeout 3 s, operation timeout 5 s. ``resolve`` maps ``ldap_server`` to the address and ports:
the simulator's stand-in for DNS (real nodes look up SRV records and A records, and use 389/636).

Errors: `DirectoryUnavailable` when the server cannot be resolved, reached or trusted, the bind
account is refused, a filter is invalid, or a search fails; its message names the server and
the reason, never a password.

INFERRED (Pexip documents the fields, not the algorithm): how the filters are combined
(``(&<user filter><user search filter>)``; an empty user filter or group filter is left out, an
empty user search filter is the default one, an empty membership filter means no group search,
an empty group attributes field means none; attribute lists may be separated by commas or
spaces); that the search DNs are relative to the base DN (a DN already ending with the base DN
is used as it is); subtree searches; that an identity matching several users matches none; that
a blank bind username means an anonymous bind; the StartTLS → LDAPS → (plain, if permitted)
order; that only the trusted CA list is trusted (no system store); that a missing search base
(noSuchObject) means "no such user"; that ``ldap_use_global_catalog`` (Active Directory's ports
3268/3269) is ignored.
"""

from __future__ import annotations

import functools
import re
import socket
import ssl
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ldap3 import ANONYMOUS, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPException,
    LDAPResponseTimeoutError,
    LDAPStartTLSError,
)
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

DEFAULTS: Mapping[str, Any] = {
    "ldap_permit_no_tls": False,
    "ldap_user_search_dn": "",
    "ldap_user_filter": "(&(objectclass=person)(!(objectclass=computer)))",
    "ldap_user_search_filter": "(|(uid={username})(sAMAccountName={username}))",
    "ldap_user_group_attributes": "memberOf",
    "ldap_group_search_dn": "",
    "ldap_group_filter": (
        "(|(objectclass=group)(objectclass=groupOfNames)"
        "(objectclass=groupOfUniqueNames)(objectclass=posixGroup))"
    ),
    "ldap_group_membership_filter": (
        "(|(member={userdn})(uniquemember={userdn})(memberuid={useruid}))"
    ),
    "ldap_use_global_catalog": False,
}
CONNECT_TIMEOUT = 3.0
KEPT_CONNECTIONS = 8  # service connections kept per set of settings
RECEIVE_TIMEOUT = 5
UID_ATTRIBUTES = ("uid", "sAMAccountName")
# Result codes of a bind refused for its credentials (RFC 4511): inappropriateAuthentication,
# invalidCredentials, insufficientAccessRights, unwillingToPerform.
BIND_REFUSED = frozenset({48, 49, 50, 53})
SUCCESS, SIZE_LIMIT_EXCEEDED, NO_SUCH_OBJECT = 0, 4, 32
REASON_MAX = 300
# What a transport failing looks like (the next one is tried); other ldap3 errors during a bind
# are its refusal to send the credentials (a password SASLprep rejects, an empty user name).
TRANSPORT_ERRORS = (LDAPCommunicationError, LDAPResponseTimeoutError, LDAPStartTLSError)

Resolve = Callable[[str], tuple[str, int, int]]


@dataclass(frozen=True)
class DirectoryUser:
    """A user found in the directory: its DN, its uid and the DNs of its groups."""

    dn: str
    uid: str
    groups: tuple[str, ...]


class DirectoryUnavailable(Exception):
    """The LDAP server could not be used; the message names it and says why (never a password)."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"LDAP server {server!r} is unavailable: {reason}")
        self.server = server
        self.reason = reason


class _TransportFailed(Exception):
    """A connection could not be opened or secured (the reason is the message)."""


class _BindRefused(Exception):
    """The server refused a bind's credentials (result ``code``)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class _Transport:
    """One way to reach the server: ``server`` (ldap3) and whether to StartTLS on it."""

    label: str
    server: Server
    start_tls: bool


class _VerifiedTls(Tls):
    """ldap3's `Tls` with the handshake verified by OpenSSL against ``context``'s CAs and the
    configured server name (ldap3's own check would also accept the connected address)."""

    def __init__(self, context: ssl.SSLContext, server_name: str) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self._context = context
        self._server_name = server_name

    def wrap_socket(self, connection: Connection, do_handshake: bool = False) -> None:
        """Replace ``connection``'s socket by a TLS one (ldap3 calls this for LDAPS/StartTLS)."""
        connection.socket = self._context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=self._server_name,
        )


class Directory:
    """The LDAP server named by a Management Node's authentication settings.

    ``resolve`` maps ``ldap_server`` to (address, LDAP port, LDAPS port; 0 for none) and may
    raise `LookupError`, `OSError` or `ValueError` for unknown names; ``trusted`` returns the
    PEM CA certificates the node trusts. Thread-safe.

    The service account's connections (bound, over the transport that worked) are kept for the
    next lookup with the same settings, trusted CA list and server address: a Management Node
    requiring client certificates looks its administrator up at every request, and a new
    connection each time (TCP, StartTLS, bind, unbind) was most of a request's cost. A kept
    connection that fails is closed and the lookup made again on a new one; a change of any of
    those closes them all. A user's own bind (`authenticate`) always has a new connection.
    INFERRED: that a real node keeps its LDAP connections is not documented; nothing it shows
    depends on it.
    """

    def __init__(
        self,
        resolve: Resolve,
        trusted: Callable[[], list[str]],
        connect_timeout: float = CONNECT_TIMEOUT,
        receive_timeout: int = RECEIVE_TIMEOUT,
    ) -> None:
        self._resolve = resolve
        self._trusted = trusted
        self._connect_timeout = connect_timeout
        self._receive_timeout = receive_timeout
        self._kept: dict[Hashable, list[Connection]] = {}
        self._lock = threading.Lock()

    def find(self, settings: Mapping[str, Any], identity: str) -> DirectoryUser | None:
        """The user ``identity`` names, with its groups; None if there is no (single) such user.

        `DirectoryUnavailable` if the directory cannot be used.
        """
        if not identity:
            return None
        config = _Config(settings)
        key = self._key(config)
        conn = self._take(key)
        if conn is not None:
            try:
                found = _find(conn, config, identity)
            except DirectoryUnavailable:
                _close(conn)  # a kept connection the server dropped: try a new one
            else:
                self._keep(key, conn)
                return found
        keep = functools.partial(self._keep, key)
        with self._bound(config, config.bind_dn, config.bind_password, True, keep) as conn:
            return _find(conn, config, identity)

    def _key(self, config: _Config) -> Hashable:
        """What a kept service connection depends on."""
        try:
            where: Hashable = self._resolve(config.server)
        except (LookupError, OSError, ValueError):
            where = None
        return (
            where,
            config.server,
            config.bind_dn,
            config.bind_password,
            config.permit_no_tls,
            tuple(self._trusted()),
        )

    def _take(self, key: Hashable) -> Connection | None:
        with self._lock:
            stale = [k for k in self._kept if k != key]
            closing = [conn for k in stale for conn in self._kept.pop(k)]
            kept = self._kept.get(key)
            conn = kept.pop() if kept else None
        for old in closing:
            _close(old)
        return conn

    def _keep(self, key: Hashable, conn: Connection) -> None:
        with self._lock:
            kept = self._kept.setdefault(key, [])
            if len(kept) < KEPT_CONNECTIONS:
                kept.append(conn)
                return
        _close(conn)

    def authenticate(
        self, settings: Mapping[str, Any], username: str, password: str
    ) -> DirectoryUser | None:
        """The user if ``password`` is theirs (a bind as their DN succeeds), else None.

        An empty password is always refused. `DirectoryUnavailable` if the directory cannot be
        used (a wrong password is not that: it gives None).
        """
        if not username or not password:
            return None
        user = self.find(settings, username)
        if user is None:
            return None
        config = _Config(settings)
        try:
            with self._bound(config, user.dn, password, service=False):
                return user
        except _BindRefused:
            return None

    @contextmanager
    def _bound(
        self,
        config: _Config,
        who: str,
        password: str,
        service: bool,
        keep: Callable[[Connection], None] | None = None,
    ) -> Iterator[Connection]:
        """A connection bound as ``who`` over the first transport that works; closed at the
        end, or handed to ``keep`` when the block ended without an error.

        `_BindRefused` if the server refuses a user's credentials; `DirectoryUnavailable` if no
        transport works or the bind account is refused.
        """
        failures: list[str] = []
        secrets = (password, config.bind_password)
        for transport in self._transports(config):
            conn = Connection(
                transport.server,
                user=who or None,
                password=password if who else None,
                authentication=SIMPLE if who else ANONYMOUS,
                read_only=True,
                raise_exceptions=False,
                auto_referrals=False,
                receive_timeout=self._receive_timeout,
            )
            try:
                try:
                    _open(conn, transport)
                    bound = conn.bind(read_server_info=False)
                except (_TransportFailed, *TRANSPORT_ERRORS) as error:
                    failures.append(f"{transport.label}: {_reason(error, secrets)}")
                    continue
                except LDAPException as error:  # ldap3 refused to send the credentials
                    bound, code, description = False, 49, _reason(error, secrets)
                else:
                    code = int(conn.result.get("result") or 0)
                    description = str(conn.result.get("description") or "refused")
                if not bound:
                    if code in BIND_REFUSED and not service:
                        raise _BindRefused(code, description)
                    account = "the bind account was refused" if service else "bind failed"
                    raise DirectoryUnavailable(config.server, f"{account}: {description}")
                yield conn
                if keep is not None:
                    keep(conn)
                    conn = None
                return
            finally:
                if conn is not None:
                    _close(conn)
        raise DirectoryUnavailable(config.server, "; ".join(failures) or "no transport")

    def _transports(self, config: _Config) -> list[_Transport]:
        """StartTLS, LDAPS, and plain LDAP only if insecure transport is permitted."""
        try:
            host, port, ldaps_port = self._resolve(config.server)
        except (LookupError, OSError, ValueError):
            raise DirectoryUnavailable(config.server, "the name does not resolve") from None
        tls = _VerifiedTls(self._context(), config.server)
        timeout = self._connect_timeout
        transports: list[_Transport] = []
        if port:
            server = Server(host, port, tls=tls, get_info=NONE, connect_timeout=timeout)
            transports.append(_Transport(f"StartTLS to {host}:{port}", server, True))
        if ldaps_port:
            server = Server(
                host, ldaps_port, use_ssl=True, tls=tls, get_info=NONE, connect_timeout=timeout
            )
            transports.append(_Transport(f"LDAPS to {host}:{ldaps_port}", server, False))
        if config.permit_no_tls and port:
            server = Server(host, port, get_info=NONE, connect_timeout=timeout)
            transports.append(_Transport(f"plain LDAP to {host}:{port}", server, False))
        return transports

    def _context(self) -> ssl.SSLContext:
        """A client context trusting only ``trusted()`` (unreadable certificates are skipped)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and host name
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        for pem in self._trusted():
            try:
                context.load_verify_locations(cadata=pem)
            except (ssl.SSLError, ValueError):
                continue
        return context


class _Config:
    """The settings this module reads, with Pexip's defaults for missing ones."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        def value(name: str) -> Any:
            given = settings.get(name)
            return DEFAULTS.get(name, "") if given is None else given

        self.server = str(value("ldap_server")).strip()
        self.base_dn = str(value("ldap_base_dn")).strip()
        self.bind_dn = str(value("ldap_bind_username"))
        self.bind_password = str(value("ldap_bind_password"))
        self.permit_no_tls = bool(value("ldap_permit_no_tls"))
        self.user_filter = str(value("ldap_user_filter")).strip()
        self.user_search_filter = str(value("ldap_user_search_filter")).strip() or str(
            DEFAULTS["ldap_user_search_filter"]
        )
        self.group_attributes = [
            name for name in re.split(r"[\s,]+", str(value("ldap_user_group_attributes"))) if name
        ]
        self.group_filter = str(value("ldap_group_filter")).strip()
        self.membership_filter = str(value("ldap_group_membership_filter")).strip()
        if not self.server:
            raise DirectoryUnavailable("", "no LDAP server is configured")
        if not self.base_dn:
            raise DirectoryUnavailable(self.server, "no base DN is configured")
        self.user_base = _under(str(value("ldap_user_search_dn")), self.base_dn)
        self.group_base = _under(str(value("ldap_group_search_dn")), self.base_dn)


def _find(conn: Connection, config: _Config, identity: str) -> DirectoryUser | None:
    search_filter = config.user_search_filter.replace("{username}", escape_filter_chars(identity))
    entries = _search(
        conn,
        config,
        config.user_base,
        _all_of(config.user_filter, search_filter),
        [*config.group_attributes, *UID_ATTRIBUTES],
        size_limit=2,
    )
    if len(entries) != 1:
        return None
    dn, attributes = entries[0]
    uid = next((v for name in UID_ATTRIBUTES for v in _values(attributes, name)), identity)
    groups = [value for name in config.group_attributes for value in _values(attributes, name)]
    if config.membership_filter:
        membership = config.membership_filter.replace("{userdn}", escape_filter_chars(dn)).replace(
            "{useruid}", escape_filter_chars(uid)
        )
        found = _search(
            conn, config, config.group_base, _all_of(config.group_filter, membership), []
        )
        groups.extend(group_dn for group_dn, _ in found)
    return DirectoryUser(dn=dn, uid=uid, groups=_unique_dns(groups))


def _search(
    conn: Connection,
    config: _Config,
    base: str,
    search_filter: str,
    attributes: Sequence[str],
    size_limit: int = 0,
) -> list[tuple[str, Mapping[str, Any]]]:
    """(DN, attributes) of the entries found; none if the base does not exist."""
    try:
        conn.search(
            base,
            search_filter,
            search_scope=SUBTREE,
            attributes=list(attributes) or None,
            size_limit=size_limit,
        )
    except LDAPException as error:
        reason = _reason(error, (config.bind_password,))
        raise DirectoryUnavailable(config.server, f"search failed: {reason}") from None
    code = int(conn.result.get("result") or 0)
    if code == NO_SUCH_OBJECT:
        return []
    if code not in (SUCCESS, SIZE_LIMIT_EXCEEDED):
        description = conn.result.get("description", code)
        raise DirectoryUnavailable(config.server, f"search failed: {description}")
    return [
        (str(item["dn"]), item.get("attributes") or {})
        for item in conn.response or []
        if item.get("type") == "searchResEntry"
    ]


def _open(conn: Connection, transport: _Transport) -> None:
    """Connect, and StartTLS if the transport says so (`_TransportFailed` on failure)."""
    try:
        conn.open(read_server_info=False)
        if conn.closed:
            raise _TransportFailed("could not connect")
        # ldap3 writes a request's parts separately; without this Nagle waits for slapd's
        # delayed ACK (40 ms per bind and search on loopback).
        conn.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if transport.start_tls and not conn.start_tls(read_server_info=False):
            raise _TransportFailed("StartTLS was not started")
    except LDAPException as error:
        raise _TransportFailed(str(error)) from None


def _close(conn: Connection) -> None:
    try:
        conn.unbind()
    except LDAPException:
        pass


def _all_of(*filters: str) -> str:
    """``(&f1f2...)`` of the non-empty filters (each parenthesised if it is not)."""
    parts = [f if f.startswith("(") else f"({f})" for f in filters if f]
    return parts[0] if len(parts) == 1 else "(&" + "".join(parts) + ")"


def _under(search_dn: str, base_dn: str) -> str:
    """A search DN relative to the base DN (or already under it); the base DN if empty."""
    search_dn = search_dn.strip()
    if not search_dn:
        return base_dn
    if search_dn.lower().replace(" ", "").endswith(base_dn.lower().replace(" ", "")):
        return search_dn
    return f"{search_dn},{base_dn}"


def _values(attributes: Mapping[str, Any], name: str) -> list[str]:
    """The values of attribute ``name`` (case-insensitive), as a list of strings."""
    for key, value in attributes.items():
        if key.lower() == name.lower():
            values = value if isinstance(value, list | tuple) else [value]
            return [str(item) for item in values if item not in (None, "", b"")]
    return []


def _unique_dns(dns: Sequence[str]) -> tuple[str, ...]:
    """``dns`` without repeats (compared as parsed, case-insensitively), in order."""
    seen: set[Any] = set()
    unique: list[str] = []
    for dn in dns:
        try:
            key: Any = tuple((a.lower(), v.lower()) for a, v, _ in parse_dn(dn))
        except LDAPException:
            key = dn.lower()
        if key not in seen:
            seen.add(key)
            unique.append(dn)
    return tuple(unique)


def _reason(error: Exception, secrets: Sequence[str]) -> str:
    """A short reason for ``error`` (ldap3 wraps texts in tuple reprs: unwrapped), secrets
    blanked out."""
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", str(error)).strip("()'\", ").replace("\\'", "'")
    text = text or type(error).__name__
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 3] + "..."
