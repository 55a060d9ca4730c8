"""A client for the BeyondTrust appliance SIMULATOR's certificate API (``simulator.beyondtrust``).

A real BeyondTrust Privileged Remote Access appliance has NO certificate API: certificates are
managed only in its /appliance web interface (Security > Certificates). The JSON API this client
speaks is Accord's own, named after that page's actions and fields, and served only by the
simulator. So this client drives the simulator only: on ``live`` the guide's steps that act are
reported "not run on live" (never passed), and what a live appliance does is verified through
its TLS behaviour with ``accord.beyondtrust.probes``.

House rules (as ``accord.pexip.client``): ``verify=`` on every request (REQUESTS_CA_BUNDLE would
override ``Session.verify``); a refused request is a ``BeyondTrustApiError`` carrying the
method, path, status, the field at fault and the server's message; secrets (the API password,
import passwords, export passphrases) are ``Secret`` values revealed only when sent and never
part of a message or ``repr``; a client made with ``read_only=True`` (the default) refuses every
request but GET before it reaches the wire (``ReadOnlyError``). Export is a POST and therefore
refused too: it hands out key material.

Requests go through `accord.http.ApiSession` (one origin, no redirect away from it, one
deadline, the run's budget): transport failures are `accord.http.TransportError` (its
`DeadlineExceeded` included) or `accord.http.BudgetSpent`, and an answer that is not the API's
shape (not JSON, a missing field, a field of another type) is `accord.http.UnexpectedAnswer`,
each one line naming the system, the method and the URL.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from cryptography import x509

from accord.http import Answer, ApiClient, ClientError, json_type
from accord.secrets import Secret

T = TypeVar("T")

__all__ = [
    "Appliance",
    "BeyondTrustApiError",
    "BeyondTrustClient",
    "Certificate",
    "CertificateForm",
    "CertificateRequest",
    "ImportResult",
    "ReadOnlyError",
]

API = "api/appliances"
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class BeyondTrustApiError(ClientError):
    """The simulator refused a request: ``method``, ``path`` (no query), ``status``, ``field``
    (the request field at fault, or ``None``) and ``message`` (the server's). Request bodies are
    never part of it, so a secret being sent cannot leak through an error."""

    separator = " -> "

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        field: str | None,
        message: str,
        system: str = "beyondtrust",
    ) -> None:
        self.path = path
        self.status = status
        self.field = field
        self.message = message
        reason = f"{field}: {message}" if field else message
        super().__init__(system, method, path, f"{status}: {reason}")


class ReadOnlyError(RuntimeError):
    """A write was attempted through a read-only (verification) client; nothing was sent."""


class _Shape(ValueError):
    """An answer's field that is not what the API promises."""


def _typed(body: Mapping[str, Any], name: str, kind: type, what: str) -> Any:
    if not isinstance(body, Mapping):
        raise _Shape(f"a {json_type(body)} where an object belongs")
    if name not in body:
        raise _Shape(f"{name}: missing")
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Shape(f"{name}: {json_type(value)}, where the API promises {what}")
    return value


def _str(body: Mapping[str, Any], name: str) -> str:
    return str(_typed(body, name, str, "a string"))


def _bool(body: Mapping[str, Any], name: str) -> bool:
    return bool(_typed(body, name, bool, "a boolean"))


def _int(body: Mapping[str, Any], name: str) -> int:
    return int(_typed(body, name, int, "an integer"))


def _strs(body: Mapping[str, Any], name: str) -> tuple[str, ...]:
    items = _typed(body, name, list, "a list of strings")
    if not all(isinstance(item, str) for item in items):
        raise _Shape(f"{name}: not every item is a string")
    return tuple(items)


def _time(body: Mapping[str, Any], name: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(_str(body, name), _TIME).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _Shape(f"{name}: not a time of the API's form") from None


def _rows(body: Any, name: str) -> list[Any]:
    return list(_typed(body, name, list, "a list"))


@dataclass(frozen=True)
class Appliance:
    """An appliance of the simulated site; ``listener`` is its TLS listener ``(host, port)``."""

    name: str
    hostname: str
    role: str
    cloud: bool
    listener: tuple[str, int] | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Appliance:
        listener = body.get("listener")
        address = (_str(listener, "host"), _int(listener, "port")) if listener else None
        return cls(
            _str(body, "name"),
            _str(body, "hostname"),
            _str(body, "role"),
            _bool(body, "cloud"),
            address,
        )


@dataclass(frozen=True)
class Certificate:
    """A row of Security :: Certificates. ``fingerprint``: SHA-256, upper-case hex pairs joined
    by colons; ``kind``: ``server``, ``intermediate`` or ``root``; ``warnings``: the texts shown
    under the name (factory certificate, incomplete chain, expired); ``certificate``: the parsed
    certificate (public). Never a private key: ``private_key`` only says whether one is held."""

    id: int
    friendly_name: str
    issued_to: str
    issued_by: str
    subject: str
    issuer: str
    alternative_names: tuple[str, ...]
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str
    private_key: bool
    kind: str
    warnings: tuple[str, ...]
    default: bool
    factory: bool
    certificate: x509.Certificate = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Certificate:
        return cls(
            id=_int(body, "id"),
            friendly_name=_str(body, "friendly_name"),
            issued_to=_str(body, "issued_to"),
            issued_by=_str(body, "issued_by"),
            subject=_str(body, "subject"),
            issuer=_str(body, "issuer"),
            alternative_names=_strs(body, "alternative_names"),
            serial=_str(body, "serial"),
            not_before=_time(body, "not_before"),
            not_after=_time(body, "not_after"),
            fingerprint=_str(body, "fingerprint_sha256"),
            private_key=_bool(body, "private_key"),
            kind=_str(body, "kind"),
            warnings=_strs(body, "warnings"),
            default=_bool(body, "default"),
            factory=_bool(body, "factory"),
            certificate=x509.load_pem_x509_certificate(
                _str(body, "certificate_pem").encode("ascii")
            ),
        )


@dataclass(frozen=True)
class CertificateRequest:
    """A pending request (Security :: Certificate Requests): ``request_data`` is the PEM CSR;
    the private key stays on the appliance."""

    id: int
    friendly_name: str
    subject: str
    alternative_names: tuple[str, ...]
    fingerprint: str
    public_key: str
    request_data: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CertificateRequest:
        return cls(
            id=_int(body, "id"),
            friendly_name=_str(body, "friendly_name"),
            subject=_str(body, "subject"),
            alternative_names=_strs(body, "alternative_names"),
            fingerprint=_str(body, "fingerprint"),
            public_key=_str(body, "public_key"),
            request_data=_str(body, "request_data"),
        )


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows added, rows that gained the file's key, rows already there,
    and the pending requests whose key a new certificate was linked to."""

    added: tuple[Certificate, ...]
    key_added: tuple[Certificate, ...]
    unchanged: tuple[Certificate, ...]
    linked_requests: tuple[int, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ImportResult:
        def rows(name: str) -> tuple[Certificate, ...]:
            return tuple(Certificate.from_json(item) for item in body.get(name, ()))

        linked = body.get("linked_requests", [])
        if not isinstance(linked, list) or not all(type(i) is int for i in linked):
            raise _Shape("linked_requests: not a list of integers")
        return cls(rows("added"), rows("key_added"), rows("unchanged"), tuple(linked))

    @property
    def certificates(self) -> tuple[Certificate, ...]:
        """Every row the file concerned, in that order (added, key added, unchanged)."""
        return (*self.added, *self.key_added, *self.unchanged)


@dataclass(frozen=True)
class CertificateForm:
    """The Create form (self-signed certificate or certificate request): Certificate Friendly
    Name, Key (RSA bits), Subject Name and Subject Alternative Names. The appliance validates
    it (a refused field is a ``BeyondTrustApiError`` naming it)."""

    friendly_name: str
    key_size: int
    country: str
    common_name: str
    alternative_names: tuple[str, ...]
    state: str = ""
    city: str = ""
    organization: str = ""
    unit: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "friendly_name": self.friendly_name,
            "key_size": self.key_size,
            "country": self.country,
            "state": self.state,
            "city": self.city,
            "organization": self.organization,
            "unit": self.unit,
            "common_name": self.common_name,
            "alternative_names": list(self.alternative_names),
        }


Form = CertificateForm | Mapping[str, Any]


def _form_json(form: Form) -> dict[str, Any]:
    return form.as_json() if isinstance(form, CertificateForm) else dict(form)


def _revealed(secret: Secret | None) -> str | None:
    return secret.reveal() if secret is not None else None


def _filename(response: Answer) -> str:
    message = EmailMessage()
    message["Content-Disposition"] = response.headers.get("Content-Disposition", "")
    return message.get_filename() or ""


class BeyondTrustClient(ApiClient):
    """The simulated appliances' certificate API (see module doc). Every method raises
    ``BeyondTrustApiError`` when the simulator refuses (400 validation, 401 credentials, 404
    unknown appliance or id, 409 refused by the store's state), `accord.http.TransportError`
    when it cannot be reached, `accord.http.UnexpectedAnswer` for an answer that is not the
    API's shape and `accord.http.BudgetSpent` once the run's budget is spent; writes through a
    read-only client raise ``ReadOnlyError``."""

    read_only_error = ReadOnlyError
    default_system = "beyondtrust"

    def __repr__(self) -> str:
        return f"BeyondTrustClient(url={self.base!r}, read_only={self.read_only!r})"

    def __enter__(self) -> BeyondTrustClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    @staticmethod
    def _path(appliance: str | None = None, *parts: str | int) -> str:
        path = API if appliance is None else f"{API}/{quote(appliance, safe='')}"
        return "/".join([path, *(str(p) for p in parts)])

    def _refusal(self, answer: Answer) -> BeyondTrustApiError:
        field_name, message = None, f"{answer.reason or 'refused'} ({answer.content_type})"
        if answer.content_type == "application/json":
            try:
                error = answer.object().get("error")
            except ClientError:
                error = None
            if isinstance(error, dict):
                field_name, message = error.get("field"), str(error.get("message"))
        where = urlsplit(answer.url).path
        return BeyondTrustApiError(
            answer.method, where, answer.status, field_name, message[:300], self.system
        )

    def _read(self, method: str, path: str, parse: Callable[[Any], T], **kwargs: Any) -> T:
        """The answer parsed by ``parse``; `UnexpectedAnswer` when it is not the API's shape."""
        answer = self._send(method, path, **kwargs)
        body = answer.object()
        try:
            return parse(body)
        except KeyError as missing:
            raise answer.fail(f"{missing}: missing") from None
        except _Shape as wrong:
            raise answer.fail(str(wrong)) from None
        except (TypeError, AttributeError, ValueError) as wrong:
            raise answer.fail(f"not the API's shape ({type(wrong).__name__})") from None

    # -- reads -------------------------------------------------------------------------------

    def appliances(self) -> list[Appliance]:
        """Every appliance of the site (primary, backup, traffic nodes), with its listener."""
        return self._read(
            "GET", API, lambda body: [Appliance.from_json(a) for a in _rows(body, "appliances")]
        )

    def certificates(self, appliance: str) -> list[Certificate]:
        """The Security :: Certificates table, in id order (the default is flagged)."""
        return self._read(
            "GET",
            self._path(appliance, "certificates"),
            lambda body: [Certificate.from_json(row) for row in _rows(body, "certificates")],
        )

    def default(self, appliance: str) -> Certificate:
        """The default certificate: served to clients sending no or an unknown SNI name."""
        path = self._path(appliance, "certificates", "default")
        return self._read("GET", path, lambda body: Certificate.from_json(body["certificate"]))

    def requests(self, appliance: str) -> list[CertificateRequest]:
        """The pending certificate requests, in id order."""
        return self._read(
            "GET",
            self._path(appliance, "requests"),
            lambda body: [CertificateRequest.from_json(r) for r in _rows(body, "requests")],
        )

    def select(self, appliance: str, server_name: str | None) -> Certificate:
        """The certificate the listener serves for ``server_name`` (``None``: no SNI)."""
        params = {"server_name": server_name} if server_name else None
        return self._read(
            "GET",
            self._path(appliance, "certificates", "select"),
            lambda body: Certificate.from_json(body["certificate"]),
            params=params,
        )

    def support_bundle(
        self, appliance: str, certificate_id: int | None = None
    ) -> tuple[str, bytes]:
        """The .zip for Technical Support (``(filename, bytes)``): the certificate chain of
        ``certificate_id`` (default: the default certificate), never a private key."""
        params = {"id": certificate_id} if certificate_id is not None else None
        path = self._path(appliance, "certificates", "support-bundle")
        response = self._send("GET", path, params=params)
        return _filename(response), response.content

    # -- writes ------------------------------------------------------------------------------

    def create_self_signed(self, appliance: str, form: Form) -> Certificate:
        """Create Self-Signed Certificate (409 on a cloud appliance)."""
        path = self._path(appliance, "certificates", "self-signed")
        return self._read(
            "POST",
            path,
            lambda body: Certificate.from_json(body["certificate"]),
            json=_form_json(form),
        )

    def create_request(self, appliance: str, form: Form) -> CertificateRequest:
        """Create Certificate Request: a new key stays on the appliance; the CSR is returned."""
        return self._read(
            "POST",
            self._path(appliance, "requests"),
            lambda body: CertificateRequest.from_json(body["request"]),
            json=_form_json(form),
        )

    def import_file(
        self,
        appliance: str,
        data: bytes,
        password: Secret | None = None,
        *,
        filename: str = "certificate",
    ) -> ImportResult:
        """Import one certificate file (DER, PEM, PKCS#7 or PKCS#12 with ``password``)."""
        body: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii")}
        body["filename"] = filename
        if password is not None:
            body["password"] = password.reveal()
        path = self._path(appliance, "certificates", "import")
        return self._read("POST", path, ImportResult.from_json, json=body)

    def export(
        self,
        appliance: str,
        ids: Sequence[int],
        *,
        include_private_key: bool,
        include_chain: bool,
        passphrase: Secret | None,
        include_certificate: bool = True,
    ) -> tuple[str, bytes]:
        """Export the selected certificates (DER, PKCS#7, PKCS#8 key, or PKCS#12 with the key
        and chain protected by ``passphrase``): ``(filename, bytes)``."""
        body = {
            "ids": list(ids),
            "include_certificate": include_certificate,
            "include_private_key": include_private_key,
            "include_chain": include_chain,
            "passphrase": _revealed(passphrase),
        }
        response = self._send("POST", self._path(appliance, "certificates", "export"), json=body)
        return _filename(response), response.content

    def set_default(self, appliance: str, certificate_id: int) -> Certificate:
        """Make a certificate the default (409 for one without a private key)."""
        path = self._path(appliance, "certificates", "default")
        return self._read(
            "PUT",
            path,
            lambda body: Certificate.from_json(body["certificate"]),
            json={"id": certificate_id},
        )

    def delete(self, appliance: str, certificate_id: int) -> None:
        """Delete a certificate (409 for the factory certificate and the current default)."""
        self._send("DELETE", self._path(appliance, "certificates", certificate_id))
