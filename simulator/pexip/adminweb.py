"""The Administrator interface's login and sessions (``/admin/``), and host-header validation.

The real Administrator interface is a web application; the simulator models the parts the
guide hardens, as a small stand-in (INFERRED pages and messages; Pexip's web interface is a
Django application, so Django's answers are followed where it has one):

- ``GET /admin/login/``: the login page (a form with ``username`` and ``password``). When a
  client certificate is required it is not offered: with a certificate whose identity is
  accepted the browser is sent on to ``/admin/`` with a session, otherwise 403.
- ``POST /admin/login/`` (form fields ``username``, ``password``): a session cookie
  (``sessionid``, ``Secure``, ``HttpOnly``) and a redirect to ``/admin/``; wrong credentials →
  the form again (200) with Django's "Please enter a correct username and password."; over a
  session limit → 403 "Too many active management web sessions".
- ``GET /admin/``: the interface's start page for a session; when certificates are required,
  only for a session of the presented certificate's user (a cookie alone gets 403; a valid
  certificate without its session is sent on with a new one); otherwise a redirect to the
  login page.
- ``POST /admin/logout/``: ends the session.

Session limits come from the security wizard ("Active management web sessions", "Active
per-user management web sessions"; 0 is no limit): a login that would exceed either is refused;
a session counts until it logs out, the simulator is reset, or it is idle longer than the
global "Management web interface session timeout". Session ids are random and never logged.

Host headers: with the wizard's "Enable management web validation of host headers", a request
to the API or the Administrator interface whose ``Host`` is not one of the Management Nodes'
FQDNs, alternative FQDNs or addresses (or the loopback address standing for one) gets Django's
``400 Bad Request (400)``. ``/_sim/`` is not checked.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from simulator.pexip import faults
from simulator.pexip.access import Access, Identity
from simulator.pexip.certificates import node_fqdn
from simulator.pexip.errors import ApiError
from simulator.pexip.models import PexipModel
from simulator.pexip.resources import GLOBAL, MANAGEMENT_VM
from simulator.pexip.state import State

COOKIE = "sessionid"
LOGIN, HOME, LOGOUT = "/admin/login/", "/admin/", "/admin/logout/"
WRONG = "Please enter a correct username and password. Note that both fields may be case-sensitive."
TOO_MANY = "Too many active management web sessions."
BAD_HOST = "<h1>Bad Request (400)</h1>"


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body>{body}</body></html>\n"
    )
    response = Response(text, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def login_form(error: str = "") -> Response:
    """The login page."""
    message = f'<p class="errornote">{html.escape(error)}</p>' if error else ""
    return _page(
        "Log in | Pexip Infinity Administrator",
        f"<h1>Pexip Infinity Administrator</h1>{message}"
        f'<form method="post" action="{LOGIN}">'
        '<label>Username <input name="username" autocomplete="username"></label>'
        '<label>Password <input name="password" type="password"></label>'
        '<input type="submit" value="Log in"></form>',
    )


@dataclass
class _Session:
    username: str
    last_used: float


def _timeout_seconds(state: State) -> float | None:
    row = next(iter(state.table(GLOBAL).rows.values()), {})
    if not row.get("session_timeout_enabled", True):
        return None
    return 60.0 * float(row.get("management_session_timeout", 30))


def allowed_hosts(state: State) -> set[str]:
    """Every Management Node's FQDN, alternative FQDN and address (lower case)."""
    out: set[str] = set()
    for row in state.table(MANAGEMENT_VM).rows.values():
        out.add(node_fqdn(row).lower())
        for name in ("alternative_fqdn", "address"):
            if row.get(name):
                out.add(str(row[name]).lower())
    return out


class AdminWeb:
    """Login, sessions and host-header checks of one Management Node (see module doc)."""

    def __init__(
        self,
        model: PexipModel,
        access: Access,
        answers: Callable[[], dict[str, object]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.access = access
        self.answers = answers
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    def host_refused(self, request: Request) -> Response | None:
        """Django's 400 for a foreign ``Host`` when the wizard asks for validation, else None."""
        if not self.answers().get("validate_host_headers"):
            return None
        host = request.host.lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]")
        allowed = self.model.read_state(allowed_hosts)
        allowed.add(str(request.environ.get("SERVER_NAME", "")).lower())
        if name in allowed:
            return None
        return Response(BAD_HOST, status=400, mimetype="text/html")

    def handle(self, request: Request) -> Response:
        """Answer a request under ``/admin/``."""
        path = request.path if request.path.endswith("/") else request.path + "/"
        if path == LOGIN:
            return self._login(request)
        if path == LOGOUT and request.method == "POST":
            self.end(request.cookies.get(COOKIE, ""))
            response = Response(status=302, headers={"Location": LOGIN})
            response.delete_cookie(COOKIE, secure=True, httponly=True)
            return response
        if path == HOME:
            return self._home(request)
        return _page("Not Found", "<h1>Not Found</h1>", status=404)

    def _certificate_identity(self, request: Request) -> Identity | None | Response:
        """With certificates required: the certificate's identity or a 403 page."""
        try:
            return self.access.identify("", request.environ.get("SSL_CLIENT_CERT"))
        except ApiError as error:
            return _page(
                "Forbidden",
                f"<h1>403 Forbidden</h1><p>{html.escape(error.message)}</p>",
                status=403,
            )

    def _login(self, request: Request) -> Response:
        if self.access.certificate_mode() is not None:
            no_certificate = not request.environ.get("SSL_CLIENT_CERT")
            if no_certificate and self.model.fault(faults.AUTH05_LOGIN_PAGE_OFFERED):
                return login_form() if request.method == "GET" else login_form(WRONG)
            found = self._certificate_identity(request)
            if isinstance(found, Response):
                return found
            return self._start(found.username) if found else login_form()
        if request.method == "GET":
            return login_form()
        if request.method != "POST":
            return Response(status=405, headers={"Allow": "GET, POST"})
        username = request.form.get("username", "")
        identity = self.access.password_login(username, request.form.get("password", ""))
        if identity is None:
            return login_form(WRONG)
        return self._start(identity.username)

    def _start(self, username: str) -> Response:
        session = self.begin(username)
        if session is None:
            return _page("Forbidden", f"<h1>403 Forbidden</h1><p>{TOO_MANY}</p>", status=403)
        response = Response(status=302, headers={"Location": HOME})
        response.set_cookie(COOKIE, session, secure=True, httponly=True, samesite="Lax")
        return response

    def _home(self, request: Request) -> Response:
        """The start page for a session; with certificates required, only for a session of
        the presented certificate's user (a session cookie alone is not enough)."""
        username = self.user(request.cookies.get(COOKIE, ""))
        if self.access.certificate_mode() is not None:
            found = self._certificate_identity(request)
            if isinstance(found, Response):
                return found
            if found is None:
                return login_form()
            if username != found.username:
                return self._start(found.username)
        if username is None:
            return Response(status=302, headers={"Location": LOGIN})
        if self.model.fault(faults.MGMT03_START_PAGE_REFUSED):
            return _page("Forbidden", "<h1>403 Forbidden</h1>", status=403)
        return _page(
            "Pexip Infinity Administrator",
            f"<h1>Pexip Infinity Administrator</h1><p>Logged in as {html.escape(username)}</p>",
        )

    # -- sessions ------------------------------------------------------------------------

    def _expire(self) -> None:
        timeout = self.model.read_state(_timeout_seconds)
        if timeout is None:
            return
        now = self.clock()
        for key in [k for k, s in self._sessions.items() if now - s.last_used > timeout]:
            del self._sessions[key]

    def begin(self, username: str) -> str | None:
        """A new session for ``username``, or None when a session limit would be exceeded."""
        answers = self.answers()
        total = int(answers.get("web_sessions_total", 0) or 0)
        per_user = int(answers.get("web_sessions_per_user", 0) or 0)
        if self.model.fault(faults.SECW08_TOTAL_LIMIT_IGNORED):
            total = 0
        if self.model.fault(faults.SECW08_PER_USER_LIMIT_OFF_BY_ONE) and per_user:
            per_user += 1
        with self._lock:
            self._expire()
            mine = sum(1 for s in self._sessions.values() if s.username == username)
            if (total and len(self._sessions) >= total) or (per_user and mine >= per_user):
                return None
            key = secrets.token_urlsafe(32)
            self._sessions[key] = _Session(username, self.clock())
            return key

    def user(self, key: str) -> str | None:
        """The user of a live session (and the session is used now), or None."""
        with self._lock:
            self._expire()
            session = self._sessions.get(key)
            if session is None:
                return None
            session.last_used = self.clock()
            return session.username

    def end(self, key: str) -> None:
        """Log a session out (unknown keys are ignored)."""
        with self._lock:
            self._sessions.pop(key, None)

    def clear(self) -> None:
        """End every session (a reset)."""
        with self._lock:
            self._sessions.clear()
