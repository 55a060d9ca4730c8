"""Connecting to vCenter (or vcsim) with pyvmomi, as carefully as the other clients.

- Certificate verification is always on (the site's CA bundle, or this machine's trust store),
  with the host name checked.
- pyvmomi's `SmartConnect` asks for ``/sdk/vimServiceVersions.xml`` with no timeout at all, and
  follows nothing but would wait forever: that question is asked through `accord.http`'s
  `ApiSession` (one origin, no redirect away from it, the deadline, no credentials), and the
  SOAP stub is made here.
- Every SOAP call (the login included) runs under the site's ``request_deadline`` and the run's
  budget: the watchdog of `accord.http` shuts its connection down when the deadline passes.
- The password goes only into the SOAP login; it and vCenter's session key (the
  ``vmware_soap_session`` cookie, the login's ``UserSession.key``) are remembered by
  `accord.secrets`, so neither is written anywhere.
- Whatever fails is a `VsphereError`, one line naming vCenter, the SOAP method and the URL.
"""

from __future__ import annotations

import http.client
import ssl
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from pyVim.connect import Disconnect
from pyVmomi import SoapAdapter, VmomiSupport, vim, vmodl

from accord import secrets
from accord.http import (
    ApiSession,
    ClientError,
    Limits,
    RunBudget,
    deadline,
    describe,
    late,
    spent,
    watch_connection,
)
from accord.secrets import Secret

SYSTEM = "vsphere"
POOL_IDLE = 30  # seconds an idle SOAP connection is kept
OPTIONAL = VmomiSupport.F_OPTIONAL  # a method whose result may be absent


class VsphereError(ClientError):
    """vCenter cannot be reached, refused the login, or answered what is not SOAP; one line
    naming vCenter, the SOAP method and the URL, no secret."""


def connect(
    url: str,
    username: str,
    password: Secret,
    ca_bundle: Path | None,
    *,
    limits: Limits | None = None,
    budget: RunBudget | None = None,
) -> Any:
    """A logged-in ``ServiceInstance`` (call `disconnect` when done). Raises `VsphereError`
    (and a replay's request that is not in its recording, as `accord.recording` raises it)."""
    limits = limits or Limits()
    budget = budget or RunBudget()
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    where = f"https://{host}:{port}/sdk"
    version = _version(host, port, ca_bundle, limits, budget)
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    stub = SoapAdapter.SoapStubAdapter(
        host,
        port,
        version=version,
        path="/sdk",
        sslContext=context,
        httpConnectionTimeout=limits.deadline,  # each socket operation; the whole call: `_guard`
        connectionPoolTimeout=POOL_IDLE,
    )
    _guard(stub, where, limits, budget)
    si = vim.ServiceInstance("ServiceInstance", stub)
    try:
        content = si.RetrieveContent()
        session = content.sessionManager.Login(username, password.reveal(), None)
    except vim.fault.InvalidLogin:
        raise VsphereError(SYSTEM, "POST", where + " (Login)", "the login was refused") from None
    except vmodl.MethodFault as fault:
        reason = getattr(fault, "msg", None) or type(fault).__name__
        raise VsphereError(SYSTEM, "POST", where + " (Login)", reason) from None
    secrets.remember(getattr(session, "key", None))
    _remember_cookie(stub)
    return si


def disconnect(si: Any) -> None:
    Disconnect(si)


def _version(
    host: str, port: int, ca_bundle: Path | None, limits: Limits, budget: RunBudget
) -> str:
    """The newest vim25 API version both pyvmomi and the server speak (what `SmartConnect`
    finds), from ``/sdk/vimServiceVersions.xml``."""
    api = ApiSession(
        SYSTEM, f"https://{host}:{port}/", ca_bundle=ca_bundle, limits=limits, budget=budget
    )
    try:
        answer = api.request("GET", "/sdk/vimServiceVersions.xml")
    except ClientError as exc:
        raise VsphereError(exc.system, exc.method, exc.url, exc.reason) from None
    finally:
        api.close()
    if answer.status != 200:
        raise _wrong(answer.url, f"answered {answer.status} {answer.reason}, not the API versions")
    try:
        root = ElementTree.fromstring(answer.content)
    except ElementTree.ParseError:
        raise _wrong(answer.url, f"not XML ({answer.content_type or 'no Content-Type'})") from None
    offered = {v.text for v in root.iter("version")}
    for wanted in VmomiSupport.GetServiceVersions("vim25"):
        if VmomiSupport.versionIdMap.get(wanted) in offered:
            return str(wanted)
    raise _wrong(answer.url, "no API version pyvmomi speaks")


def _wrong(url: str, reason: str) -> VsphereError:
    return VsphereError(SYSTEM, "GET", url, reason)


def _guard(stub: Any, where: str, limits: Limits, budget: RunBudget) -> None:
    """Every SOAP call of ``stub`` under the deadline and the budget, its failures one line."""
    invoke = stub.InvokeMethod
    get_connection = stub.GetConnection

    def connection() -> Any:
        conn = get_connection()
        watch_connection(conn)
        return conn if isinstance(conn, _SoapOnly) else _SoapOnly(conn)

    def guarded(mo: Any, info: Any, args: Any, outerStub: Any = None) -> Any:  # noqa: N803
        method = f"{where} ({info.wsdlName})"
        remaining = min(limits.deadline, budget.remaining())
        if remaining <= 0:
            error = spent(SYSTEM, "POST", method, budget.seconds)
            raise VsphereError(error.system, error.method, error.url, error.reason)
        with deadline(remaining) as watch:
            try:
                result = invoke(mo, info, args, outerStub)
            except vmodl.MethodFault:
                raise  # vCenter's own answer: the caller's to handle
            except Exception as exc:
                if hasattr(exc, "failed_request"):
                    raise  # a replay's request that is not in its recording
                if watch.fired or isinstance(exc, TimeoutError):
                    error = late(SYSTEM, "POST", method, remaining, budget.spent())
                    raise VsphereError(SYSTEM, "POST", method, error.reason) from None
                raise VsphereError(SYSTEM, "POST", method, _soap_failure(exc)) from None
        if result is None and info.result is not type(None) and not info.resultFlags & OPTIONAL:
            raise VsphereError(SYSTEM, "POST", method, "not a SOAP answer (no result)")
        return result

    stub.GetConnection = connection
    stub.InvokeMethod = guarded


class _NotSoap(http.client.HTTPException):
    """An answer whose Content-Type is not XML (pyvmomi would read a well-formed HTML page
    as an empty result)."""


class _SoapOnly:
    """A SOAP connection whose answers must say they are XML; everything else is the
    connection's own."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        response = self._connection.getresponse(*args, **kwargs)
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if response.status in (200, 500) and not kind.endswith("xml"):
            raise _NotSoap(f"not a SOAP answer ({kind or 'no Content-Type'})")
        return response


def _soap_failure(exc: BaseException) -> str:
    """What went wrong with a SOAP call, in a few words."""
    if isinstance(exc, _NotSoap):
        return str(exc)
    if isinstance(exc, ExpatError | ElementTree.ParseError):
        return "not a SOAP answer (not XML)"
    if isinstance(exc, http.client.HTTPException) and not isinstance(
        exc, http.client.RemoteDisconnected | http.client.IncompleteRead
    ):
        text = str(exc).strip()
        if text[:3].isdigit():  # pyvmomi: "<status> <reason>" for anything but 200 and 500
            return f"answered {text[:80]}, not SOAP (no redirect is followed)"
    if isinstance(exc, OSError | http.client.HTTPException):
        return describe(exc)
    return f"not a SOAP answer pyvmomi can read ({type(exc).__name__})"


def _remember_cookie(stub: Any) -> None:
    cookie = getattr(stub, "cookie", "") or ""
    try:
        parsed = SimpleCookie(cookie)
    except Exception:  # a cookie Python cannot parse: remember it whole
        secrets.remember(cookie)
        return
    for morsel in parsed.values():
        secrets.remember(morsel.value)
        secrets.remember(morsel.coded_value)
