"""A private OpenLDAP server (Debian's slapd) for tests and the lab, and the tree it is seeded with.

```python
entries = directory_entries(SUFFIX, users, groups, ServiceAccount("pexip-bind", bind_password))
with Slapd(workdir, SUFFIX, root_password, chain_pem, key_pem) as slapd:
    slapd.add(entries)
    slapd.url, slapd.ldaps_url      # ldap:// (StartTLS offered) and ldaps:// on loopback
```

Each server gets a fresh directory under ``workdir`` (mode 0700) with its ``slapd.conf``, the
TLS key (0600), the database, its pid file and its error output; `Slapd.stop` removes it. The
root DN's password is written only as a salted hash ({SSHA}), like every ``userPassword``, and
the seeding connection uses a Unix socket inside that directory, never the network.

Access: the root DN may do anything; entries under ``ou=services`` (the bind service accounts)
may read the whole tree; every user may read its own entry; anyone may bind with a
``userPassword`` (authentication only, it is never readable).

The tree (`directory_entries`): ``ou=people`` holds ``inetOrgPerson`` users with an auxiliary
class from ``adnames.schema`` (beside this module) carrying Active Directory's
``userPrincipalName`` and ``sAMAccountName``, so a user search filter such as
``(userPrincipalName={username})`` finds a client certificate's UPN as on Active Directory
(``mail`` would have worked too, but would have conflated two attributes a site may set
differently). ``ou=groups`` holds ``groupOfNames`` groups; the memberof overlay keeps each
user's ``memberOf`` up to date, as Active Directory does. ``ou=services`` holds the service
accounts (``applicationProcess`` + ``simpleSecurityObject``: not people, so the user filter
does not find them).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from ldap3 import SIMPLE, Connection, Server
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import escape_rdn, parse_dn

SLAPD_BINARY = Path("/usr/sbin/slapd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
AD_NAMES_SCHEMA = Path(__file__).with_name("adnames.schema")
NOT_INSTALLED = (
    "slapd is not installed: `make test` installs it (Debian packages slapd, ldap-utils)"
)
ROOT_RDN = "cn=admin"
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes
STDERR_TAIL = 2000

Entry = tuple[str, dict[str, Any]]


class SlapdError(RuntimeError):
    """slapd could not be started or seeded (the message carries no password)."""


def ssha(password: str) -> str:
    """``password`` hashed like slappasswd's default: ``{SSHA}`` base64(SHA-1 + 8-byte salt)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


# --- the tree -----------------------------------------------------------------------------------


@dataclass
class DirectoryUser:
    """A person in ``ou=people``: ``groups`` are the ``cn`` of the groups it is a member of."""

    uid: str
    cn: str
    password: str = field(repr=False)
    upn: str | None = None
    groups: list[str] = field(default_factory=list)

    def dn(self, suffix: str) -> str:
        """``uid=<uid>,ou=people,<suffix>``."""
        return f"uid={escape_rdn(self.uid)},ou=people,{suffix}"


@dataclass
class DirectoryGroup:
    """A ``groupOfNames`` in ``ou=groups``."""

    cn: str

    def dn(self, suffix: str) -> str:
        """``cn=<cn>,ou=groups,<suffix>``."""
        return f"cn={escape_rdn(self.cn)},ou=groups,{suffix}"


@dataclass
class ServiceAccount:
    """The account a Management Node binds as to search (``ou=services``, may read the tree)."""

    cn: str
    password: str = field(repr=False)

    def dn(self, suffix: str) -> str:
        """``cn=<cn>,ou=services,<suffix>``."""
        return f"cn={escape_rdn(self.cn)},ou=services,{suffix}"


def directory_entries(
    suffix: str,
    users: Sequence[DirectoryUser],
    groups: Sequence[DirectoryGroup],
    service_account: ServiceAccount,
) -> list[Entry]:
    """The entries of the tree, parents first and groups after their members.

    Passwords are stored as {SSHA} hashes. A group without members lists the empty DN as its
    member (``groupOfNames`` requires one). `ValueError` if a user names a group that is not
    in ``groups``, or the suffix's first RDN is neither ``dc`` nor ``o``.
    """
    known = {group.cn for group in groups}
    for user in users:
        unknown = [name for name in user.groups if name not in known]
        if unknown:
            raise ValueError(f"user {user.uid!r} is in unknown groups {unknown}")
    entries: list[Entry] = [_suffix_entry(suffix)]
    for ou in ("people", "groups", "services"):
        entries.append((f"ou={ou},{suffix}", {"objectClass": ["organizationalUnit"], "ou": ou}))
    entries.append(
        (
            service_account.dn(suffix),
            {
                "objectClass": ["applicationProcess", "simpleSecurityObject"],
                "cn": service_account.cn,
                "userPassword": ssha(service_account.password),
            },
        )
    )
    entries.extend((user.dn(suffix), _person(user)) for user in users)
    for group in groups:
        members = [user.dn(suffix) for user in users if group.cn in user.groups]
        entries.append(
            (
                group.dn(suffix),
                {"objectClass": ["groupOfNames"], "cn": group.cn, "member": members or [""]},
            )
        )
    return entries


def _suffix_entry(suffix: str) -> Entry:
    attribute, value, _ = parse_dn(suffix)[0]
    if attribute.lower() == "dc":
        return suffix, {"objectClass": ["dcObject", "organization"], "dc": value, "o": value}
    if attribute.lower() == "o":
        return suffix, {"objectClass": ["organization"], "o": value}
    raise ValueError(f"the suffix must start with dc= or o=, not {attribute}=")


def _person(user: DirectoryUser) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "objectClass": ["inetOrgPerson", "accordAccountNames"],
        "uid": user.uid,
        "cn": user.cn,
        "sn": user.cn.split()[-1] if user.cn.split() else user.uid,
        "userPassword": ssha(user.password),
        "sAMAccountName": user.uid,
    }
    if user.upn:
        attributes["userPrincipalName"] = user.upn
    return attributes


# --- the server ---------------------------------------------------------------------------------


class Slapd:
    """A private slapd on ``host`` (an IPv4 address): LDAP with StartTLS on `port`, LDAPS on
    `ldaps_port`, and a Unix socket of its own for seeding.

    ``tls_certificate`` is the server's chain (PEM, leaf first) and ``tls_private_key`` its key
    (PEM). The root DN is ``cn=admin,<suffix>`` (`root_dn`) with ``root_password``.
    `ValueError` for a host that is not an IPv4 address or a suffix with quotes or line breaks
    (``LDAPInvalidDnError`` for one that is no DN).
    """

    def __init__(
        self,
        workdir: Path,
        suffix: str,
        root_password: str,
        tls_certificate: str,
        tls_private_key: str,
        host: str = "127.0.0.1",
    ) -> None:
        parse_dn(suffix)  # LDAPInvalidDnError early
        if ipaddress.ip_address(host).version != 4:
            raise ValueError("slapd's host must be an IPv4 address")
        if any(char in suffix for char in '"\n\r'):
            raise ValueError("the suffix may not contain quotes or line breaks")
        self.workdir = Path(workdir)
        self.suffix = suffix
        self.root_dn = f"{ROOT_RDN},{suffix}"
        self.host = host
        self.port = 0
        self.ldaps_port = 0
        self.url = ""
        self.ldaps_url = ""
        self._root_password = root_password
        self._certificate = tls_certificate
        self._private_key = tls_private_key
        self._rundir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"Slapd(url={self.url!r}, ldaps_url={self.ldaps_url!r}, suffix={self.suffix!r})"

    @property
    def pid(self) -> int | None:
        """slapd's process ID while started, else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether slapd is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0, attempts: int = 3) -> Slapd:
        """Write the configuration, start slapd on free ports and wait until it answers.

        `RuntimeError` if slapd is not installed; `SlapdError` (with the tail of slapd's error
        output) if it exits or does not answer within ``timeout`` seconds. A port taken between
        choosing it and slapd binding it is retried up to ``attempts`` times.
        """
        if self.running:
            return self
        if not SLAPD_BINARY.exists():
            raise RuntimeError(NOT_INSTALLED)
        for _ in range(max(attempts, 1)):
            try:
                return self._start_once(timeout)
            except _PortTaken:
                self.stop()
            except BaseException:
                self.stop()
                raise
        raise SlapdError(f"slapd: its ports were taken {max(attempts, 1)} times in a row")

    def _start_once(self, timeout: float) -> Slapd:
        self.workdir.mkdir(parents=True, exist_ok=True)
        rundir = self._rundir = Path(tempfile.mkdtemp(prefix="slapd-", dir=self.workdir))
        ldapi = rundir / "ldapi"
        if len(str(ldapi)) > SOCKET_PATH_MAX:
            raise SlapdError(f"slapd: the work directory's path is too long for a socket: {rundir}")
        (rundir / "db").mkdir(mode=0o700)
        (rundir / "server.pem").write_text(self._certificate)
        _write_private(rundir / "server.key", self._private_key)
        _write_private(rundir / "slapd.conf", self._config(rundir))
        self.port, self.ldaps_port = _free_ports(self.host, 2)
        self.url = f"ldap://{self.host}:{self.port}"
        self.ldaps_url = f"ldaps://{self.host}:{self.ldaps_port}"
        listeners = f"{self.url}/ {self.ldaps_url}/ ldapi://{quote(str(ldapi), safe='')}"
        # In the foreground (-d), logging errors only ("none"): never the config's lines.
        args = [str(SLAPD_BINARY), "-f", str(rundir / "slapd.conf"), "-h", listeners, "-d", "none"]
        with (rundir / "slapd.stderr").open("wb") as stderr:
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        self._wait_ready(timeout)
        return self

    def _config(self, rundir: Path) -> str:
        schemas = [SCHEMA_DIR / f"{name}.schema" for name in ("core", "cosine", "inetorgperson")]
        services = f"ou=services,{self.suffix}"
        lines = [
            *(f'include "{schema}"' for schema in [*schemas, AD_NAMES_SCHEMA]),
            f'modulepath "{MODULE_DIR}"',
            "moduleload back_mdb",
            "moduleload memberof",
            f'pidfile "{rundir / "slapd.pid"}"',
            f'argsfile "{rundir / "slapd.args"}"',
            f'TLSCertificateFile "{rundir / "server.pem"}"',
            f'TLSCertificateKeyFile "{rundir / "server.key"}"',
            "TLSProtocolMin 3.3",  # TLS 1.2
            "database mdb",
            "maxsize 16777216",
            f'suffix "{self.suffix}"',
            f'rootdn "{self.root_dn}"',
            f"rootpw {ssha(self._root_password)}",
            f'directory "{rundir / "db"}"',
            "index objectClass eq",
            "index uid,cn,member,userPrincipalName,sAMAccountName eq",
            "overlay memberof",
            "access to attrs=userPassword",
            "  by anonymous auth",
            "  by * none",
            "access to *",
            f'  by dn.children="{services}" read',
            "  by self read",
            "  by * none",
        ]
        return "\n".join(lines) + "\n"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                tail = self._stderr_tail()
                if "Address already in use" in tail:
                    raise _PortTaken
                raise SlapdError(f"slapd exited ({code}) while starting: {tail}")
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise SlapdError(
                    f"slapd did not answer within {timeout:.0f} s: {self._stderr_tail()}"
                )
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with self._root_connection(timeout=1):
                return True
        except LDAPException:
            return False

    def _root_connection(self, timeout: int = 5) -> Connection:
        """A connection bound as the root DN over the Unix socket (`LDAPException` if not)."""
        assert self._rundir is not None
        server = Server(f"ldapi://{quote(str(self._rundir / 'ldapi'), safe='')}")
        return Connection(
            server,
            user=self.root_dn,
            password=self._root_password,
            authentication=SIMPLE,
            auto_bind=True,  # raises LDAPBindError if refused
            receive_timeout=timeout,
        )

    def _stderr_tail(self) -> str:
        if self._rundir is None:
            return ""
        try:
            text = (self._rundir / "slapd.stderr").read_text(errors="replace")
        except OSError:
            return "(no output)"
        return text[-STDERR_TAIL:].strip() or "(no output)"

    def add(self, entries: Iterable[Entry]) -> None:
        """Add ``entries`` (DN, attributes) as the root DN, in order.

        `SlapdError` naming the DN and slapd's reason if one is refused (never the attributes,
        which may hold password hashes).
        """
        if not self.running:
            raise SlapdError("slapd is not running")
        try:
            with self._root_connection() as connection:
                for dn, attributes in entries:
                    _add(connection, dn, attributes)
        except LDAPException as error:
            raise SlapdError(f"slapd: seeding failed: {type(error).__name__}") from None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop slapd (SIGTERM to the process its pid file names, SIGKILL after ``timeout``)
        and remove its directory. Safe to call again."""
        proc, self._proc = self._proc, None
        rundir, self._rundir = self._rundir, None
        if proc is not None:
            if proc.poll() is None:
                _signal(proc, rundir, signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if rundir is not None:
            shutil.rmtree(rundir, ignore_errors=True)

    def __enter__(self) -> Slapd:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _PortTaken(Exception):
    """slapd could not bind a port chosen for it (taken in between)."""


def _add(connection: Connection, dn: str, attributes: Mapping[str, Any]) -> None:
    object_class = attributes.get("objectClass")
    rest = {name: value for name, value in attributes.items() if name != "objectClass"}
    if not connection.add(dn, object_class, rest):
        description = connection.result.get("description", "refused")
        message = connection.result.get("message", "")
        raise SlapdError(f"slapd refused {dn!r}: {description} {message}".strip())


def _signal(proc: subprocess.Popen[bytes], rundir: Path | None, signum: int) -> None:
    """Signal slapd by its pid file; only ever our own child (slapd runs in the foreground, so
    the file names it; a missing or foreign pid file falls back to the child we started)."""
    try:
        pid = int((rundir / "slapd.pid").read_text().split()[0]) if rundir else proc.pid
    except (OSError, ValueError, IndexError):
        pid = proc.pid
    try:
        os.kill(pid if pid == proc.pid else proc.pid, signum)
    except ProcessLookupError:
        pass


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner may read (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _free_ports(host: str, count: int) -> list[int]:
    """``count`` distinct ports free on ``host`` right now (held together while chosen)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
