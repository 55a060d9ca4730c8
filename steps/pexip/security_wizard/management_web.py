"""Steps for the security wizard's answers about the management web: host header validation,
probed on every Management Node (`steps.pexip.wire`), and the session limits (SECW-08), acted
on the site's scratch node.

Opening a hundred sessions on a verified Management Node would lock its administrators out, so
the limits are shown on the scratch Management Node: the deployer first brings it to the site's
baseline as it does a contingency deployment (the security wizard with the site's answers, LDAP
and the local account), then administrators log in through the login form until the limits
refuse them. The logins a step needs are sent at once (the run's `Wire`, bounded by the site's
``[verification] concurrency``), as are the logouts that end every session opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

import pytest
from pytest_bdd import given, then, when

from accord.deployer import pexip, pki, security_wizard
from accord.pexip.console import Console
from accord.pexip.deployment import Deployment
from accord.pexip.workbench import Workbench
from accord.probes import http
from accord.probes.wire import Named, Wire, probe
from accord.site import Site
from accord.systems import Systems
from steps.common import Observe, probing
from steps.pexip.web import LOGIN, LOGOUT, ManagementNodeWeb
from steps.pexip.wire import HTTPS, Plan, WireNode, prefetch, record

TOO_MANY = 403  # the interface's answer to a login over a limit


def _admin_requests(host: str | None) -> Plan:
    """GET the Administrator interface's login page of every Management Node, with ``host``
    as the Host header (None: the node's own FQDN), verified with its deployment's CA bundle."""

    def plan(nodes: list[WireNode], systems: Systems) -> Named[http.HttpExchange]:
        site = systems.site
        return [
            (
                node.name,
                probe(
                    http.request,
                    node.endpoint(systems, HTTPS),
                    LOGIN,
                    server_name=node.fqdn,
                    ca_bundle=site.file(getattr(site.systems.pexip, node.deployment).ca_bundle),
                    host_header=host or node.fqdn,
                    timeout=site.verification.connect_timeout,
                ),
            )
            for node in nodes
            if not node.conferencing
        ]

    return plan


_FOREIGN_HOST = _admin_requests(http.FOREIGN_HOST)
_OWN_HOST = _admin_requests(None)


@probing(
    "every Management Node refuses a request to the Administrator interface with a foreign "
    "Host header",
    prefetch(_FOREIGN_HOST),
)
def foreign_host_refused(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """SECW-09: the management web validates Host headers (Django answers 400)."""
    results = wire.results(_FOREIGN_HOST(every_node, systems))
    record(observe, f"GET {LOGIN} with Host: {http.FOREIGN_HOST}", results)
    wrong = [f"{name}: {r.status or r.error}" for name, r in results if r.status != 400]
    assert not wrong, f"foreign Host header not refused with 400 by: {', '.join(wrong)}"


@probing(
    "every Management Node answers the same request when the Host header is its own FQDN",
    prefetch(_OWN_HOST),
)
def own_host_answered(
    every_node: list[WireNode], systems: Systems, wire: Wire, observe: Observe
) -> None:
    """The refusal above is about the Host header, not the request."""
    results = wire.results(_OWN_HOST(every_node, systems))
    record(observe, f"GET {LOGIN} with the node's own FQDN as Host", results)
    wrong = [f"{name}: {r.status or r.error}" for name, r in results if r.status in (None, 400)]
    assert not wrong, f"the node's own name refused by: {', '.join(wrong)}"


def _opened(exchange: http.HttpExchange) -> str | None:
    """The session cookie a login opened, if it did."""
    if exchange.status in (301, 302, 303):
        return exchange.cookies.get("sessionid")
    return None


@dataclass
class Sessions:
    """Logins to the scratch node's Administrator interface, each logged out at the end."""

    web: ManagementNodeWeb
    wire: Wire
    opened: dict[str, list[str]] = field(default_factory=dict)  # user -> session cookies
    refused: list[tuple[str, http.HttpExchange]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(map(len, self.opened.values()))

    def login(self, username: str, password: str) -> bool:
        """One login; whether it opened a session (a refusal is kept with its exchange)."""
        return self.logins([(username, password)]) == 1

    def logins(self, credentials: list[tuple[str, str]]) -> int:
        """Several logins at once; how many opened a session (refusals are kept)."""
        done = self.wire.each(
            [(user, partial(self.web.login_form, user, password)) for user, password in credentials]
        )
        for username, exchange in done:
            cookie = _opened(exchange)
            if cookie is None:
                self.refused.append((username, exchange))
            else:
                self.opened.setdefault(username, []).append(cookie)
        return sum(1 for _, exchange in done if _opened(exchange) is not None)

    def close(self) -> None:
        """Log every session out, all at once."""
        headers = [
            {"Cookie": f"sessionid={c}"} for cookies in self.opened.values() for c in cookies
        ]
        self.wire.each(
            [
                ("logout", partial(self.web.request, LOGOUT, method="POST", headers=h))
                for h in headers
            ]
        )
        self.opened.clear()


@pytest.fixture
def sessions(workbench: Workbench, systems: Systems, site: Site, wire: Wire) -> Iterator[Sessions]:
    scratch = Deployment(workbench.client, "pexip-scratch")
    opened = Sessions(ManagementNodeWeb(scratch, systems, site, "scratch"), wire)
    yield opened
    opened.close()


@given("the deployer brought it to the site's baseline with local login kept")
def scratch_baseline(workbench: Workbench, scratch_console: Console, site: Site) -> None:
    """As for a contingency deployment: the security wizard with the site's answers (the
    session limits among them), LDAP authentication with the local account kept, no client
    certificate required."""
    security_wizard(scratch_console, site, dry_run=False)
    client = workbench.client
    plan = pexip.plan(client, site, "pexip-scratch", contingency=True)
    plan.certificates = pki.plan(client, site)
    pexip.apply(client, plan)
    pki.apply(client, site, plan.certificates)
    pexip.apply_authentication(client, plan)


@when("the local administrator logs in as many times as the per-user session limit allows")
def local_sessions(sessions: Sessions, site: Site) -> None:
    web = sessions.web
    limit = site.pexip.security_wizard.web_sessions_per_user
    opened = sessions.logins([(web.username, web.local_password())] * limit)
    assert opened == limit, _last_refusal(sessions)


@then("one more login of the local administrator is refused")
def local_refused(sessions: Sessions, site: Site, observe: Observe) -> None:
    web = sessions.web
    opened = sessions.login(web.username, web.local_password())
    _observe(sessions, observe, "one more login of the local administrator")
    limit = site.pexip.security_wizard.web_sessions_per_user
    assert not opened, f"session {limit + 1} was opened past the per-user limit of {limit}"
    assert sessions.refused[-1][1].status == TOO_MANY, _last_refusal(sessions)


@when("the site's session users log in until the total session limit is reached")
def fill_total(sessions: Sessions, site: Site) -> None:
    wizard = site.pexip.security_wizard
    wanted: list[tuple[str, str]] = []
    room = wizard.web_sessions_total - sessions.total
    for user in sessions.web.system.session_users:
        spare = wizard.web_sessions_per_user - len(sessions.opened.get(user.username, []))
        count = max(0, min(spare, room - len(wanted)))
        wanted += [(user.username, site.resolve(user.password).reveal())] * count
    opened = sessions.logins(wanted)
    assert opened == len(wanted), _last_refusal(sessions)
    if sessions.total < wizard.web_sessions_total:
        pytest.fail(
            f"the site names too few session users for [systems.pexip.scratch] to reach "
            f"{wizard.web_sessions_total} sessions at {wizard.web_sessions_per_user} each"
        )


@then("one more login of a session user with sessions to spare is refused")
def total_refused(sessions: Sessions, site: Site, observe: Observe) -> None:
    wizard = site.pexip.security_wizard
    spare = [
        u
        for u in sessions.web.system.session_users
        if len(sessions.opened.get(u.username, [])) < wizard.web_sessions_per_user
    ]
    if not spare:
        pytest.fail("the site names no session user with sessions to spare")
    opened = sessions.login(spare[0].username, site.resolve(spare[0].password).reveal())
    _observe(sessions, observe, "one more login past the total")
    assert not opened, f"a session was opened past the total limit of {wizard.web_sessions_total}"
    assert sessions.refused[-1][1].status == TOO_MANY, _last_refusal(sessions)


def _last_refusal(sessions: Sessions) -> str:
    if not sessions.refused:
        return "no login was refused"
    username, exchange = sessions.refused[-1]
    return f"{username}: {exchange.status or exchange.error}: {exchange.body_excerpt or ''}"


def _observe(sessions: Sessions, observe: Observe, what: str) -> None:
    username, exchange = sessions.refused[-1] if sessions.refused else ("", None)
    observe(
        what,
        {
            "sessions open": {user: len(c) for user, c in sessions.opened.items()},
            "total": sessions.total,
            "refused login": {"user": username, **(exchange.observation() if exchange else {})},
        },
    )
