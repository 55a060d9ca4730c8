"""Who may use a Management Node's API and Administrator interface: its authentication settings.

With ``enforce=False`` (the default of ``ManagementNodeSimulator``, for tests of the API
surface) only the simulator's own administrator account works, over HTTP Basic, whatever the
settings say. With ``enforce=True`` (``accord sim``) the ``authentication`` settings are
followed as the guide describes:

- "Authentication source" (``source``): ``LOCAL`` → the local administrator account only;
  ``LDAP+LOCAL`` → the local account or an LDAP user; ``LDAP`` → LDAP users only (the local
  account "can no longer log in", AUTH-06). OIDC sources are treated as their LDAP/LOCAL parts.
- LDAP users are found and their passwords checked in the LDAP server the settings name
  (``directory``: a real LDAP server; TLS unless "Allow insecure transport"); their groups give
  roles through the LDAP role mappings (``ldap_role``). A user whose groups map to no role
  cannot log in.
- "Require client certificate" (``client_certificate`` ``CN`` or ``UPN``, with LDAP in the
  source): the TLS listener asks for a client certificate and verifies it against the trusted
  CA list (``nodetls``); the identity in its subject CN, or in its subjectAltName
  userPrincipalName, must exist in the selected source ("a user identity which exists in the
  selected Authentication source", the guide): in LDAP, or, while the source includes the local
  database, be the local administrator account's name. The certificate alone identifies the
  user (a password is neither needed nor enough). Without such a certificate nothing but
  ``/_sim/`` can be used.

Errors: ``Unauthorized`` (401, with ``WWW-Authenticate``) for missing or wrong credentials
where a password may be used; ``Forbidden`` (403) where a client certificate is required and
none, or one whose identity is not in LDAP or has no role, was presented, or the directory
cannot be reached.

INFERRED (the guide and API docs do not say): roles are not checked against individual
permissions (any mapped role may use the whole API); the exact messages; that the API, like the
web interface, accepts the certificate alone.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.asn1 import decode_der
from cryptography.x509.oid import NameOID

from simulator.pexip import faults
from simulator.pexip.errors import ApiError, Unauthorized
from simulator.pexip.models import PexipModel
from simulator.pexip.resources import AUTHENTICATION, LDAP_ROLE
from simulator.pexip.state import State

UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
CERTIFICATE_REQUIRED = (
    "A valid client certificate whose identity exists in the LDAP database is required."
)


class Forbidden(ApiError):
    """403: the request's identity may not use the Management Node."""

    status = 403


@dataclass(frozen=True)
class Identity:
    """Who a request is from: the user name, where it was found, and the role keys."""

    username: str
    source: str  # "LOCAL", "LDAP" or "CERTIFICATE"
    roles: tuple[Any, ...] = ()


class DirectoryLike:
    """What ``Access`` needs of the LDAP lookups (``directory.Directory``)."""

    def find(self, settings: dict[str, Any], identity: str) -> Any: ...

    def authenticate(self, settings: dict[str, Any], username: str, password: str) -> Any: ...


def _settings(state: State) -> dict[str, Any]:
    """The authentication settings, with the bind password in clear for the directory."""
    settings = dict(next(iter(state.table(AUTHENTICATION).rows.values()), {}))
    if "ldap_bind_password" in settings:
        settings["ldap_bind_password"] = state.clear(settings["ldap_bind_password"])
    return settings


def _role_mappings(state: State) -> list[tuple[str, tuple[Any, ...]]]:
    rows = state.table(LDAP_ROLE).rows.values()
    return [(r["ldap_group_dn"].lower(), tuple(r["roles"])) for r in rows]


def _required_certificate(settings: dict[str, Any]) -> str | None:
    """ "CN" or "UPN" when the settings require client certificates (LDAP in the source)."""
    mode = settings.get("client_certificate", "NO")
    return mode if mode != "NO" and "LDAP" in settings.get("source", "") else None


def certificate_identity(pem: str, mode: str) -> str | None:
    """The user identity in a client certificate: its subject CN (``mode`` "CN") or its
    subjectAltName userPrincipalName (``mode`` "UPN"); None when absent or unreadable."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        if mode == "CN":
            names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            return str(names[0].value) if names else None
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id == UPN_OID:
                return decode_der(str, other.value)
    except (ValueError, x509.ExtensionNotFound, UnicodeError):
        return None
    return None


class Access:
    """Identify the requests of one Management Node (see module doc). Thread-safe."""

    def __init__(
        self,
        model: PexipModel,
        username: str,
        password: str,
        *,
        enforce: bool = False,
        directory: DirectoryLike | None = None,
    ) -> None:
        self.model = model
        self.username = username
        self._credentials = f"{username}:{password}".encode("utf-8", "surrogatepass")
        self.enforce = enforce
        self.directory = directory

    def local_admin(self, authorization: str) -> bool:
        """Whether an ``Authorization`` header carries the simulator's own administrator
        credentials (the ``/_sim/`` control plane always accepts them)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._credentials)

    def certificate_mode(self) -> str | None:
        """ "CN" or "UPN" when client certificates are required (and enforced), else None."""
        if not self.enforce:
            return None
        return _required_certificate(self.model.read_state(_settings))

    def identify(self, authorization: str, client_certificate: str | None) -> Identity:
        """The identity of a request from its ``Authorization`` header and the client
        certificate (PEM) its TLS connection presented; raises ``Unauthorized`` or
        ``Forbidden`` (see module doc)."""
        if not self.enforce:
            if self.local_admin(authorization):
                return Identity(self.username, "LOCAL")
            raise Unauthorized()
        settings, mappings = self.model.read_state(lambda s: (_settings(s), _role_mappings(s)))
        source = settings.get("source", "LOCAL")
        mode = _required_certificate(settings)
        if self.model.fault(faults.AUTH06_LOCAL_PASSWORD_ACCEPTED) and self.local_admin(
            authorization
        ):
            return Identity(self.username, "LOCAL")
        if mode is not None:
            identity = (
                certificate_identity(client_certificate, mode) if client_certificate else None
            )
            if identity is None:
                raise Forbidden(CERTIFICATE_REQUIRED)
            if "LOCAL" in source and identity == self.username:
                return Identity(self.username, "LOCAL")
            user = self._lookup(lambda d: d.find(settings, identity), forbidden=True)
            if user is None and self.model.fault(faults.AUTH05_IDENTITY_NOT_CHECKED):
                return Identity(
                    identity, "CERTIFICATE", tuple(k for _, keys in mappings for k in keys)
                )
            return self._with_roles(identity, "CERTIFICATE", user, mappings, forbidden=True)
        if "LOCAL" in source and self.local_admin(authorization):
            return Identity(self.username, "LOCAL")
        basic = _basic(authorization)
        if "LDAP" in source and basic is not None and basic[1]:
            name, password = basic
            user = self._lookup(lambda d: d.authenticate(settings, name, password))
            return self._with_roles(name, "LDAP", user, mappings, forbidden=False)
        raise Unauthorized()

    def password_login(self, username: str, password: str) -> Identity | None:
        """The identity of a login form's user name and password, or None if refused (wrong
        credentials, or a source that does not allow them, or certificates required)."""
        header = "Basic " + base64.b64encode(
            f"{username}:{password}".encode("utf-8", "surrogatepass")
        ).decode("ascii")
        if self.certificate_mode() is not None:
            return None
        try:
            return self.identify(header, None)
        except ApiError:
            return None

    def _lookup(self, call: Callable[[Any], Any], *, forbidden: bool = False) -> Any:
        from simulator.pexip.directory import DirectoryUnavailable

        if self.directory is None:
            raise (Forbidden if forbidden else Unauthorized)("The LDAP server cannot be reached.")
        try:
            return call(self.directory)
        except DirectoryUnavailable:
            raise (Forbidden if forbidden else Unauthorized)(
                "The LDAP server cannot be reached."
            ) from None

    @staticmethod
    def _with_roles(
        name: str,
        how: str,
        user: Any,
        mappings: list[tuple[str, tuple[Any, ...]]],
        *,
        forbidden: bool,
    ) -> Identity:
        error = Forbidden(CERTIFICATE_REQUIRED) if forbidden else Unauthorized()
        if user is None:
            raise error
        groups = {g.lower() for g in user.groups}
        roles = tuple(r for dn, keys in mappings if dn in groups for r in keys)
        if not roles:
            raise Forbidden(f"The user {name!r} has no administrator role.")
        return Identity(name, how, roles)


def _basic(authorization: str) -> tuple[str, str] | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        given = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError too: not a user name we know
        return None
    name, sep, password = given.partition(":")
    return (name, password) if sep else None
