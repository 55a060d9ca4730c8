"""A hostile Management Node: no pass on nothing, on a partial answer or on another host's data;
one clear line; no secret anywhere; never longer than the site's deadlines allow.

`HostileServer` stands in front of the lab's deployed primary Management Node (which follows
the baseline: every selected scenario passes through an honest server, the first test shows
it) and breaks the answers of up to three resources at once: the global settings, the
locations and the Conferencing Nodes. Each test then runs what a user runs against it,
`pytest features/ --target live` on the scenarios that read those resources and a few that do
not, and `accord deploy --dry-run` at the same time, with a site whose administrator password
is a canary and whose deadlines are short, and asserts:

- no scenario that reads a broken resource passes, and every one that does not still passes;
- each broken resource is named in one line (system, method, URL, what went wrong), in the
  console, in junit.xml, and as `accord deploy`'s only error line;
- no secret of the site (the canary, the lab's secrets) in any form (as it is, SHA-1 hex,
  base64 Basic token, URL-encoded) in any file the run wrote or anything either printed;
- both finished within the deadlines (and never asked another origin).
"""

from __future__ import annotations

import base64
import copy
import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import pytest

from accord.pexip.client import PAGE
from accord.site import Site
from tests.conftest import Lab
from tests.hostile.runs import Outcome, assert_no_secret, hostile_site, run_both
from tests.hostile.server import (
    NAME,
    Forwarder,
    HostileServer,
    Raw,
    Reply,
    Request,
    drip,
    endless,
    silence,
    slowly,
)

CANARY = "CANARY-hostile-admin-5e1f7a"
API = "/api/admin/configuration/v1/"
# The scenarios each resource's answers decide, and scenarios that read none of them.
READS = {
    "global": {"GLB-02", "GLB-05"},
    "system_location": {"LOC-01", "NET-01"},
    "worker_vm": {"SNMP-01", "SNMP-02"},
}
UNTOUCHED = {"AUTH-01", "AUTH-02", "ROLE-01"}
MARKS = " or ".join(sorted(set().union(*READS.values()) | UNTOUCHED))
DEADLINE = 1.5  # the site's request_deadline
BUDGET = 30.0  # the site's run_budget
VERIFICATION = {
    "request_deadline": DEADLINE,
    "connect_timeout": 1.0,
    "run_budget": BUDGET,
    "response_limit": 2,
}
# How the lab's primary is reached, and who it takes for its administrator: the hostile site's
# own; the rest (its declared nodes and locations, address map...) is kept.
REACHED = ("url", "ca_bundle", "tls_server_name", "username", "password")
REACHED += ("client_certificates", "console")
# Deploy reads these first to last: its one error names the first broken one.
DEPLOY_ORDER = ("global", "worker_vm", "system_location")


# -- the hostile lab ---------------------------------------------------------------------


@dataclass
class Hostile:
    server: HostileServer
    other: HostileServer  # a plain HTTP server on another origin
    site_file: Path
    secrets: dict[str, str]
    upstream: Callable[[Request], Reply]

    def write_site(self, **verification: float) -> Path:
        """The hostile site with other ``[verification]`` values (a file of its own)."""
        document = tomllib.loads(self.site_file.read_text())
        document["verification"] = {**document["verification"], **verification}
        return hostile_site(self.site_file.parent, "hostile-budget", document, self.secrets)


def _upstream(site: Site) -> Callable[[Request], Reply]:
    """The lab's primary Management Node, reached with the lab's credentials, reads only."""
    system = site.systems.pexip.primary
    certificate = site.client_certificate("primary")
    forward = Forwarder(
        system.url,
        str(site.file(system.ca_bundle)),
        auth=(system.username, site.resolve(system.password).reveal()),
        cert=(str(certificate[0]), str(certificate[1])) if certificate else None,
        server_name=system.tls_server_name,
    )

    def read(request: Request) -> Reply:
        if request.method != "GET":
            return Reply.json({"error": "this test's server only reads"}, 405)
        return forward(request)

    return read


@pytest.fixture(scope="module")
def hostile(lab: Lab, deployed_snapshot: dict[str, Any]) -> Iterator[Hostile]:
    lab.restore(deployed_snapshot)
    folder = lab.site_file.parent
    upstream = _upstream(lab.site)
    with (
        HostileServer(folder, upstream) as server,
        HostileServer(folder, upstream, tls=False) as other,
    ):
        document = tomllib.loads(lab.site_file.read_text())
        primary = document["systems"]["pexip"]["primary"]
        kept = {k: v for k, v in primary.items() if k not in REACHED}
        reached = {
            "url": server.url,
            "ca_bundle": str(server.ca_file),
            "tls_server_name": NAME,
            "username": "admin",
            "password": {"secret": "hostile_admin"},
        }
        document["systems"] = {"pexip": {"primary": {**kept, **reached}}}
        for section in ("vsphere", "beyondtrust"):
            document.pop(section, None)
        secrets = tomllib.loads((folder / document["site"]["secrets_file"]).read_text())
        secrets["hostile_admin"] = CANARY
        document["verification"] = VERIFICATION
        site_file = hostile_site(folder, "hostile-site", document, secrets)
        yield Hostile(server, other, site_file, secrets, upstream)


# -- what a hostile server does to one resource --------------------------------------------

Lie = Callable[[HostileServer, Request, Reply], "Reply | Raw"]


def _on(resource: str, path: str) -> bool:
    return urlsplit(path).path.startswith(f"{API}{resource}/")


def lying(hostile: Hostile, lies: dict[str, Lie]) -> Callable[[HostileServer, Request], Any]:
    """Forward everything; the answers of each resource of ``lies`` changed by its lie."""

    def behaviour(server: HostileServer, request: Request) -> Reply | Raw:
        honest = replace(request, path=re.sub(r"[?&]moved=1$", "", request.path))
        for resource, lie in lies.items():
            if _on(resource, request.path):
                return lie(server, request, hostile.upstream(honest))
        return hostile.upstream(honest)

    return behaviour


def edit(change: Callable[[dict[str, Any]], None]) -> Lie:
    """The honest JSON answer, changed in place by ``change``."""

    def lie(_server: HostileServer, _request: Request, honest: Reply) -> Reply:
        value = copy.deepcopy(honest.value())
        change(value)
        return Reply.json(value, honest.status)

    return lie


def each_object(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """``change`` applied to each object of a list page, or to the one object read."""

    def apply(body: dict[str, Any]) -> None:
        for obj in body["objects"] if "objects" in body else [body]:
            change(obj)

    return apply


def redirect_to(other: HostileServer) -> Lie:
    """302 to the same path on another origin (plain HTTP), which would serve honest data."""
    return lambda _s, request, _h: Reply(
        302, b"", {"Location": other.url.rstrip("/") + request.path}
    )


def same_origin_redirect(_server: HostileServer, request: Request, honest: Reply) -> Reply:
    """301 to the same resource on the same origin (a query added): followed, and honest."""
    if "moved=1" in request.path:
        return honest
    joiner = "&" if "?" in request.path else "?"
    return Reply(301, b"", {"Location": f"{request.path}{joiner}moved=1"})


def next_to(url: Callable[[Request], str]) -> Lie:
    """The honest first page, whose ``meta.next`` points at ``url(request)``."""

    def change(page: dict[str, Any], request: Request) -> None:
        page["meta"]["next"] = url(request)
        page["meta"]["total_count"] = len(page["objects"]) * 2

    return lambda _s, request, honest: _changed(honest, lambda page: change(page, request))


def _changed(honest: Reply, change: Callable[[dict[str, Any]], None]) -> Reply:
    value = copy.deepcopy(honest.value())
    change(value)
    return Reply.json(value, honest.status)


def duplicated(page: dict[str, Any]) -> None:
    page["objects"] += page["objects"]
    page["meta"]["total_count"] = len(page["objects"])


def partial(page: dict[str, Any]) -> None:
    page["objects"] = page["objects"][:-1]  # meta.total_count still counts it


def empty(page: dict[str, Any]) -> None:
    page["objects"] = []
    page["meta"]["total_count"] = 0


def status_line(honest: Reply) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(honest.body)}\r\n\r\n".encode()
    )


def drip_headers(_s: HostileServer, _r: Request, honest: Reply) -> Raw:
    return drip(status_line(honest) + honest.body, 0.05)


def drip_body(_s: HostileServer, _r: Request, honest: Reply) -> Raw:
    slow = drip(honest.body, 0.05)

    def write(out: BinaryIO, stop: threading.Event) -> None:
        out.write(status_line(honest))
        out.flush()
        slow.write(out, stop)

    return Raw(write)


def huge(_s: HostileServer, _r: Request, _h: Reply) -> Raw:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    return endless(head + b'{"objects": [', b'"' + b"x" * 65534 + b'",', 50 * 2**20)


def html(_s: HostileServer, _r: Request, _h: Reply) -> Reply:
    return Reply(200, b"<html><body>Please log in</body></html>", {"Content-Type": "text/html"})


def malformed(_s: HostileServer, _r: Request, honest: Reply) -> Reply:
    return Reply(200, honest.body[: len(honest.body) // 2], {"Content-Type": "application/json"})


def echo_page(_s: HostileServer, request: Request, _h: Reply) -> Reply:
    """An error page quoting the request's credentials, encoded and decoded."""
    token = request.headers.get("Authorization", "")
    decoded = base64.b64decode(token.removeprefix("Basic ")).decode(errors="replace")
    page = f"<html><pre>Internal error\nAuthorization: {token}\nUser: {decoded}</pre></html>"
    return Reply(500, page.encode(), {"Content-Type": "text/html"})


def echo_json(_s: HostileServer, request: Request, _h: Reply) -> Reply:
    token = request.headers.get("Authorization", "")
    decoded = base64.b64decode(token.removeprefix("Basic ")).decode(errors="replace")
    return Reply.json({"error": f"bad request from {decoded} ({token}; {quote(decoded)})"}, 400)


# -- what every run must show -------------------------------------------------------------


def assert_outcome(
    hostile: Hostile,
    outcome: Outcome,
    broken: dict[str, str],
    *,
    unchecked: frozenset[str] = frozenset(),
) -> None:
    """``broken``: resource -> the pattern its one-line error must match."""
    failing = set().union(*(READS[r] for r in broken)) - unchecked
    intact = (set().union(*READS.values()) | UNTOUCHED) - failing - unchecked
    for requirement in failing:
        statuses = outcome.statuses(requirement)
        assert statuses and "passed" not in statuses, (requirement, statuses, outcome.run.output)
    for requirement in intact:
        assert outcome.statuses(requirement) == {"passed"}, (requirement, outcome.run.output)
    for resource, pattern in broken.items():
        outcome.assert_one_line(rf"{api_line(resource)}:? {pattern}")
    first = next(r for r in DEPLOY_ORDER if r in broken)
    outcome.assert_deploy_error(rf"{api_line(first)}:? {broken[first]}")
    assert_no_secret(hostile.secrets, outcome)
    assert not hostile.other.seen, "another origin was asked"


def api_line(resource: str) -> str:
    """The start of a one-line error about a read of ``resource``."""
    return rf"pexip-primary: GET https://127\.0\.0\.1:\d+{API}{resource}/\S*?"


def within(outcome: Outcome, deadlines: int) -> None:
    """Finished within ``deadlines`` request deadlines (and pytest's own few seconds)."""
    assert outcome.seconds < 12 + deadlines * DEADLINE, outcome.seconds


# -- the tests -----------------------------------------------------------------------------


def test_an_honest_server_passes_everything_and_deploys_nothing(hostile, tmp_path):
    hostile.server.reset()
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    assert outcome.run.returncode == 0, outcome.run.output
    for requirement in set().union(*READS.values()) | UNTOUCHED:
        assert outcome.statuses(requirement) == {"passed"}, requirement
    assert outcome.deploy_code == 0, outcome.deploy_err
    assert "pexip-primary: no changes" in outcome.deploy_out
    assert_no_secret(hostile.secrets, outcome)
    within(outcome, 0)


def test_redirects_and_links_to_another_origin_are_never_followed(hostile, tmp_path):
    other = hostile.other
    hostile.server.reset(
        lying(
            hostile,
            {
                "global": same_origin_redirect,  # followed: still the configured origin
                "system_location": redirect_to(other),
                "worker_vm": next_to(lambda r: other.url.rstrip("/") + r.path + f"&offset={PAGE}"),
            },
        )
    )
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    assert_outcome(
        hostile,
        outcome,
        {
            "system_location": r"redirected \(302\) to http://127\.0\.0\.1:\d+/\S+: Accord "
            r"follows no redirect away from the configured origin",
            "worker_vm": r"meta\.next leads to another origin \(http://127\.0\.0\.1:\d+/\S+\): "
            r"Accord asks only the configured one",
        },
    )
    assert not other.seen  # no request, no credentials: the other origin was never asked
    assert any("moved=1" in r.path for r in hostile.server.seen)
    within(outcome, 0)


def test_looping_pagination_duplicates_and_wrong_types_never_pass(hostile, tmp_path):
    hostile.server.reset(
        lying(
            hostile,
            {
                "global": edit(each_object(lambda obj: obj.update(enable_chat="false"))),
                "system_location": edit(duplicated),
                "worker_vm": next_to(lambda r: urlsplit(r.path).path + f"?offset=0&limit={PAGE}"),
            },
        )
    )
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    assert_outcome(
        hostile,
        outcome,
        {
            "global": r"(objects\[0\]\.)?enable_chat: the string 'false', where the API "
            r"promises a boolean",
            "system_location": r"objects\[\d+\]: /api/\S+ listed twice",
            "worker_vm": r"meta\.next leads back to a page already read",
        },
    )
    within(outcome, 0)


def test_bodies_that_are_not_json_and_nulls_never_pass(hostile, tmp_path):
    hostile.server.reset(
        lying(
            hostile,
            {
                "global": malformed,
                "system_location": html,
                "worker_vm": edit(each_object(lambda obj: obj.update(snmp_mode=None))),
            },
        )
    )
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    assert_outcome(
        hostile,
        outcome,
        {
            "global": r"not JSON \((Unterminated string|Expecting)[^)]*\)",
            "system_location": r"not JSON \(text/html, \d+ bytes\)",
            "worker_vm": r"objects\[0\]\.snmp_mode: null, where the API promises a string",
        },
    )
    within(outcome, 0)


def test_a_server_that_drips_or_says_nothing_is_cut_off_at_the_deadline(hostile, tmp_path):
    hostile.server.reset(
        lying(
            hostile,
            {
                "global": drip_headers,
                "system_location": drip_body,
                "worker_vm": lambda _s, _r, _h: silence(),
            },
        )
    )
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    late = r"no complete answer within 1\.5 s \(request_deadline\)"
    assert_outcome(hostile, outcome, {"global": late, "system_location": late, "worker_vm": late})
    # One deadline per broken resource for pytest (a failed read is remembered, as a read is),
    # deploy's at the same time.
    within(outcome, 3)


def test_huge_empty_and_incomplete_answers_never_pass(hostile, tmp_path):
    hostile.server.reset(
        lying(
            hostile,
            {
                "global": huge,
                "system_location": edit(empty),
                "worker_vm": edit(each_object(lambda obj: obj.pop("name"))),
            },
        )
    )
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    # An empty list is the API's answer for a deployment without locations: the client cannot
    # refuse it; the steps judge it against the locations the site declares, and fail.
    for requirement in READS["system_location"]:
        assert outcome.statuses(requirement) == {"failed"}, requirement
    assert_outcome(
        hostile,
        outcome,
        {
            "global": r"an answer larger than 2 MiB \(\[verification\] response_limit\)",
            "worker_vm": r"objects\[0\]\.name: missing",
        },
        unchecked=frozenset({"LOC-01", "NET-01"}),
    )
    within(outcome, 0)


def test_partial_lists_and_error_pages_echoing_credentials(hostile, tmp_path):
    hostile.server.reset(
        lying(
            hostile,
            {"global": echo_page, "system_location": echo_json, "worker_vm": edit(partial)},
        )
    )
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    assert_outcome(
        hostile,
        outcome,
        {
            "global": r"-> 500: Internal Server Error \(text/html, \d+ bytes\)",
            "system_location": r"-> 400: bad request from admin:\*\*\* \(\*\*\*; admin%3A\*\*\*\)",
            "worker_vm": r"\d+ objects listed, but meta\.total_count says \d+",
        },
    )
    within(outcome, 0)


def test_a_certificate_for_another_name_is_refused_in_one_line(hostile, tmp_path):
    hostile.server.reset()
    hostile.server.wrong_name = True
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    assert {s.status for s in outcome.run.scenarios} == {"failed"}, outcome.run.output
    refused = (
        r"TLS: the certificate is not trusted: Hostname mismatch, certificate is not valid for "
        rf"'{re.escape(NAME)}'\."
    )
    for resource in ("global", "management_vm", "system_location", "authentication"):
        line = rf"{api_line(resource)}: {refused}"
        outcome.assert_one_line(f"{line}$")
    outcome.assert_deploy_error(rf"{api_line('global')}: {refused}$")
    assert_no_secret(hostile.secrets, outcome)
    assert not hostile.server.seen  # not one request got through
    within(outcome, 0)


def test_the_run_budget_stops_a_slow_server(hostile, tmp_path):
    budget = 2.0
    hostile.server.reset(slowly(lambda _s, request: hostile.upstream(request), 0.7))
    site_file = hostile.write_site(run_budget=budget)
    outcome = run_both(site_file, MARKS, tmp_path)
    statuses = {s.status for s in outcome.run.scenarios}
    assert "failed" in statuses, outcome.run.output
    assert re.search(
        r"pexip-primary: GET https://\S+: the run's budget of 2 s \(\[verification\] "
        r"run_budget\) is spent: not sent",
        outcome.run.output,
    ), outcome.run.output
    assert outcome.deploy_code == 1 and "budget" in outcome.deploy_err, outcome.deploy_err
    assert_no_secret(hostile.secrets, outcome)
    assert outcome.seconds < 12 + budget + DEADLINE, outcome.seconds


def test_an_api_that_shows_none_of_the_declared_inventory_passes_nothing(hostile, tmp_path):
    """Every list the Management Node answers is empty (as for an account whose role sees
    nothing): with the site declaring its nodes and locations, no scenario of it passes, the
    global settings and roles read beside them included."""

    def every_list_empty(_server: HostileServer, request: Request) -> Reply:
        honest = hostile.upstream(request)
        if honest.headers.get("Content-Type") != "application/json":
            return honest
        value = honest.value()
        if not (isinstance(value, dict) and "objects" in value):
            return honest
        empty(value)
        return Reply.json(value, honest.status)

    hostile.server.reset(every_list_empty)
    outcome = run_both(hostile.site_file, MARKS, tmp_path)
    for requirement in set().union(*READS.values()) | UNTOUCHED:
        statuses = outcome.statuses(requirement)
        assert statuses and "passed" not in statuses, (requirement, statuses)
    assert "pexip-primary shows none of the nodes the site declares" in outcome.run.output
    assert_no_secret(hostile.secrets, outcome)
    within(outcome, 0)
