"""The lab's LDAP directory and administrators' client certificates, for `accord sim`.

The guide has administrators authenticate against an LDAP directory, by client certificate
only (AUTH-01..06). `LabDirectory.start` runs a real slapd (`simulator.ldap.Slapd`) on loopback
seeded from the site's LDAP values:

- the base DN as its suffix; the bind account (``pexip.ldap.bind_username``, which must be a DN
  ``cn=<name>,ou=services,<base DN>``: OpenLDAP binds by DN, where Active Directory would also
  take a user name) with the site's bind password;
- a group for each LDAP role mapping (``cn=<name>,ou=groups,<base DN>``);
- the administrator ``accord-admin`` in every mapped group, with a password of its own (the
  secrets file's ``ldap_administrator_password``);
- ``session_users`` more users in the mapped groups, for the session limits (SECW-08);
- the directory's own ``Administrator`` (``cn=Administrator,ou=services,<base DN>``, which may
  read the tree), whose password is the secrets file's ``lab_directory_administrator_password``:
  the account the guide says the Management Node must not bind as (a mutation test binds as it).

slapd serves a certificate for the site's LDAP server name from the lab CA, whose certificates
the deployer puts into each Management Node's trusted CA list; `resolve` is the simulators'
stand-in for DNS. The lab CA also issues the client certificates the site file names
(``ClientCertificates``): the administrator's (CN ``accord-admin``, UPN
``accord-admin@<domain of the base DN>``), one for an identity in no directory, and one naming
the local administrator account. Keys are written readable by their owner only.
"""

from __future__ import annotations

import os
import secrets as random_secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ldap3.utils.dn import parse_dn

from accord.labca import LabCA, write_private
from simulator.ldap import (
    DirectoryGroup,
    DirectoryUser,
    ServiceAccount,
    Slapd,
    directory_entries,
    ssha,
)

if TYPE_CHECKING:
    from lab.site import LabSite

ADMINISTRATOR = "accord-admin"
OUTSIDER = "accord-outsider"
SESSION_USER = "accord-session-{:02d}"
DIRECTORY_ADMINISTRATOR = "Administrator"
CERTIFICATES = "client-certificates"


class LabDirectoryError(Exception):
    """The lab directory cannot serve the site's LDAP values (names the value), or slapd
    cannot start (not installed, or its own error)."""


def _rdn(dn: str) -> tuple[str, str, str]:
    """(attribute, value, parent DN) of a DN's first RDN."""
    parts = parse_dn(dn)
    attribute, value, _ = parts[0]
    parent = ",".join(f"{a}={v}" for a, v, _ in parts[1:])
    return attribute.lower(), value, parent


def _under(dn: str, ou: str, base_dn: str, what: str) -> str:
    """The ``cn`` of ``dn`` when it is ``cn=<cn>,ou=<ou>,<base_dn>``; else `LabDirectoryError`."""
    try:
        attribute, value, parent = _rdn(dn)
        expected = _rdn(f"ou={ou},{base_dn}")
    except Exception as exc:  # noqa: BLE001 (ldap3 raises its own types for bad DNs)
        raise LabDirectoryError(f"{what}: {dn!r} is not a DN") from exc
    if attribute != "cn" or parent.lower() != f"ou={ou},{expected[2]}".lower():
        raise LabDirectoryError(
            f"{what}: the lab directory holds it as cn=<name>,ou={ou},{base_dn}, not {dn!r}"
        )
    return value


def upn_domain(base_dn: str) -> str:
    """``lab.example`` for ``dc=lab,dc=example`` (the ``dc`` parts; ``lab.invalid`` if none)."""
    parts = [value for attribute, value, _ in parse_dn(base_dn) if attribute.lower() == "dc"]
    return ".".join(parts) or "lab.invalid"


@dataclass
class LabDirectory:
    """A started lab slapd (see module doc) and where the simulators find it."""

    slapd: Slapd
    server_name: str
    administrator_password: str = field(repr=False)
    certificates: dict[str, dict[str, str]]  # which -> {"certificate_file", "key_file"}: path
    session_users: dict[str, str] = field(repr=False)  # uid -> password
    directory_administrator_password: str = field(repr=False, default="")

    @classmethod
    def start(cls, lab: LabSite, *, local_username: str, session_users: int = 0) -> LabDirectory:
        """Start slapd for the lab site's LDAP values (see module doc) and issue the client
        certificates into ``<lab folder>/client-certificates``.

        `LabDirectoryError` for LDAP values the lab cannot serve or a slapd that cannot start.
        """
        ldap, ca, directory = lab.ldap, lab.ca, lab.directory
        base_dn = ldap.base_dn
        service = ServiceAccount(
            _under(ldap.bind_username, "services", base_dn, "pexip.ldap.bind_username"),
            lab.secret(ldap.bind_password),
        )
        groups = [
            DirectoryGroup(
                _under(m.group_dn, "groups", base_dn, f"LDAP role mapping {m.name!r} group_dn")
            )
            for m in ldap.role_mappings
        ]
        domain = upn_domain(base_dn)
        names = [g.cn for g in groups]
        administrator_password = random_secrets.token_urlsafe(18)
        users = [
            DirectoryUser(
                ADMINISTRATOR,
                ADMINISTRATOR,
                administrator_password,
                f"{ADMINISTRATOR}@{domain}",
                names,
            )
        ]
        extra = {
            SESSION_USER.format(n): random_secrets.token_urlsafe(18)
            for n in range(1, 1 + session_users)
        }
        users += [DirectoryUser(u, u, pw, f"{u}@{domain}", names) for u, pw in extra.items()]
        directory_administrator = ServiceAccount(
            DIRECTORY_ADMINISTRATOR, random_secrets.token_urlsafe(18)
        )
        server = ca.issuer.issue_cert(ldap.server, eku=("serverAuth",))
        slapd = Slapd(
            directory / "ldap",
            base_dn,
            random_secrets.token_urlsafe(18),
            server.chain_pem,
            server.key_pem(),
        )
        try:
            slapd.start()
        except RuntimeError as exc:  # not installed, or SlapdError (no password in either)
            raise LabDirectoryError(str(exc)) from None
        try:
            slapd.add(directory_entries(base_dn, users, groups, service))
            slapd.add([_account_entry(directory_administrator, base_dn)])
        except BaseException:
            slapd.stop()
            raise
        certificates = _client_certificates(ca, directory / CERTIFICATES, domain, local_username)
        return cls(
            slapd,
            ldap.server,
            administrator_password,
            certificates,
            extra,
            directory_administrator.password,
        )

    def site_certificates(self, site_directory: Path) -> dict[str, dict[str, str]]:
        """The client certificates as the site file names them (paths relative to its folder)."""
        return {
            which: {k: os.path.relpath(v, site_directory) for k, v in paths.items()}
            for which, paths in self.certificates.items()
        }

    def resolve(self, name: str) -> tuple[str, int, int]:
        """The simulators' DNS for the LDAP server: (address, LDAP port, LDAPS port)."""
        if name.lower() != self.server_name.lower():
            raise LookupError(f"{name}: no such LDAP server in the lab")
        return self.slapd.host, self.slapd.port, self.slapd.ldaps_port

    def stop(self) -> None:
        self.slapd.stop()


def _account_entry(account: ServiceAccount, base_dn: str) -> tuple[str, dict[str, Any]]:
    """A service account's entry, as ``directory_entries`` makes the bind account's."""
    attributes = {
        "objectClass": ["applicationProcess", "simpleSecurityObject"],
        "cn": account.cn,
        "userPassword": ssha(account.password),
    }
    return account.dn(base_dn), attributes


def _client_certificates(
    ca: LabCA, directory: Path, domain: str, local_username: str
) -> dict[str, dict[str, str]]:
    """Issue the three client certificates (module doc); paths as written."""
    directory.mkdir(parents=True, exist_ok=True)
    identities = {
        "administrator": ADMINISTRATOR,
        "not_in_directory": OUTSIDER,
        "local_administrator": local_username,
    }
    out: dict[str, dict[str, str]] = {}
    for which, identity in identities.items():
        # The local account has no domain: its UPN is its bare name, as the node compares it.
        upn = identity if which == "local_administrator" else f"{identity}@{domain}"
        leaf = ca.issuer.issue_cert(common_name=identity, upn=upn, eku=("clientAuth",))
        certificate, key = directory / f"{which}.pem", directory / f"{which}-key.pem"
        certificate.write_text(leaf.chain_pem)
        write_private(key, leaf.key_pem())
        out[which] = {"certificate_file": str(certificate), "key_file": str(key)}
    return out
