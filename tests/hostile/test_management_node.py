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
import contextlib
import copy
import hashlib
import io
import re
import threading
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import tomli_w

from accord import cli
from accord.http import session
from accord.labca import write_private
from accord.site import Site
from tests.conftest import Lab
from tests.features_run import Run, run_features
from tests.hostile.server import (
    NAME,
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
        path = self.site_file.with_name("hostile-budget.toml")
        path.write_text(tomli_w.dumps(document))
        return path


def _upstream(site: Site) -> Callable[[Request], Reply]:
    """The honest Management Node: GETs forwarded with the lab's credentials, kept per path."""
    system = site.systems.pexip.primary
    http = session(system.tls_server_name)
    http.auth = (system.username, site.resolve(system.password).reveal())
    certificate = site.client_certificate("primary")
    if certificate is not None:
        http.cert = (str(certificate[0]), str(certificate[1]))
    verify = str(site.file(system.ca_bundle))
    kept: dict[str, Reply] = {}
    lock = threading.Lock()

    def forward(request: Request) -> Reply:
        if request.method != "GET":
            return Reply.json({"error": "this test's server only reads"}, 405)
        with lock:
            if request.path not in kept:
                answer = http.get(system.url.rstrip("/") + request.path, verify=verify, timeout=10)
                kind = answer.headers.get("Content-Type", "application/json")
                kept[request.path] = Reply(
                    answer.status_code, answer.content, {"Content-Type": kind}
                )
            return kept[request.path]

    return forward


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
        document["systems"] = {
            "pexip": {
                "primary": {
                    "url": server.url,
                    "ca_bundle": str(server.ca_file),
                    "tls_server_name": NAME,
                    "username": "admin",
                    "password": {"secret": "hostile_admin"},
                    "address_map": primary.get("address_map", {}),
                    "port_map": primary.get("port_map", {}),
                    "not_observable": primary.get("not_observable", {}),
                }
            }
        }
        for section in ("vsphere", "beyondtrust"):
            document.pop(section, None)
        secrets_file = folder / "hostile-secrets.toml"
        secrets = tomllib.loads((folder / document["site"]["secrets_file"]).read_text())
        secrets["hostile_admin"] = CANARY
        write_private(secrets_file, tomli_w.dumps(secrets))
        document["site"]["secrets_file"] = secrets_file.name
        document["verification"] = VERIFICATION
        site_file = folder / "hostile-site.toml"
        site_file.write_text(tomli_w.dumps(document))
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


def _offset(request: Request) -> str:
    return parse_qs(urlsplit(request.path).query).get("offset", ["0"])[0]


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


# -- running what a user runs --------------------------------------------------------------


@dataclass
class Outcome:
    run: Run
    deploy_code: int | None
    deploy_out: str
    deploy_err: str
    seconds: float
    reports: Path

    def statuses(self, requirement: str) -> set[str]:
        return {s.status for s in self.run.scenarios if requirement in s.tags}


def _deploy(site_file: Path, into: dict[str, Any]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        into["code"] = cli.main(["deploy", "--site", str(site_file), "--dry-run"])
    into["out"], into["err"] = out.getvalue(), err.getvalue()


def run_both(hostile: Hostile, tmp_path: Path, site_file: Path | None = None) -> Outcome:
    """`pytest features/ --target live` and `accord deploy --dry-run` at once, timed."""
    site_file = site_file or hostile.site_file
    deployed: dict[str, Any] = {}
    started = time.monotonic()
    thread = threading.Thread(target=_deploy, args=(site_file, deployed), daemon=True)
    thread.start()
    reports = tmp_path / "reports"
    run = run_features(reports, "--target", "live", "--site", str(site_file), "-m", MARKS)
    thread.join(timeout=60)
    seconds = time.monotonic() - started
    assert not thread.is_alive(), "accord deploy --dry-run did not finish"
    (tmp_path / "pytest-output.txt").write_text(run.output)
    return Outcome(
        run,
        deployed.get("code"),
        deployed.get("out", ""),
        deployed.get("err", ""),
        seconds,
        reports,
    )


def _forms(value: str, username: str = "admin") -> set[str]:
    """How a secret may travel: as it is, SHA-1 hex, base64, Basic token, URL-encoded."""
    raw = value.encode()
    return {
        value,
        hashlib.sha1(raw).hexdigest(),
        hashlib.sha1(raw).hexdigest().upper(),
        base64.b64encode(raw).decode(),
        base64.b64encode(f"{username}:{value}".encode()).decode(),
        quote(value, safe=""),
    }


def assert_no_secret(hostile: Hostile, outcome: Outcome) -> None:
    needles = set().union(*(_forms(v) for v in hostile.secrets.values() if len(v) >= 8))
    texts = {
        "pytest's output": outcome.run.output,
        "accord deploy's output": outcome.deploy_out,
        "accord deploy's errors": outcome.deploy_err,
    }
    for path in outcome.reports.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    assert len(texts) > 8, list(texts)  # results.json, cucumber, junit, HDF, OSCAL, HTML...
    for where, text in texts.items():
        leaked = sorted(n for n in needles if n in text)
        assert not leaked, f"{where} holds a secret ({len(leaked)} form(s))"


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
    failures = [
        element.get("message", "")
        for element in ET.parse(outcome.run.reports / "junit.xml").iter("failure")
    ]
    for resource, pattern in broken.items():
        line = rf"{api_line(resource)}:? {pattern}"
        shown = [text for text in outcome.run.output.splitlines() if re.search(line, text)]
        assert shown, (line, outcome.run.output)
        prefix = r"(FAILED \S+ - |[A-Z0-9-]+ failed: )?"
        assert all(re.fullmatch(rf"{prefix}{line}.*", text) for text in shown), shown
        assert any(re.fullmatch(rf"{line}[^\n]*", m) for m in failures), (line, failures)
    assert "Traceback" not in outcome.run.output
    first = next(r for r in DEPLOY_ORDER if r in broken)
    assert outcome.deploy_code == 1, (outcome.deploy_out, outcome.deploy_err)
    error = outcome.deploy_err.strip()
    assert "\n" not in error, error
    assert re.fullmatch(rf"accord deploy: {api_line(first)}:? {broken[first]}.*", error), error
    assert_no_secret(hostile, outcome)
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
    outcome = run_both(hostile, tmp_path)
    assert outcome.run.returncode == 0, outcome.run.output
    for requirement in set().union(*READS.values()) | UNTOUCHED:
        assert outcome.statuses(requirement) == {"passed"}, requirement
    assert outcome.deploy_code == 0, outcome.deploy_err
    assert "pexip-primary: no changes" in outcome.deploy_out
    assert_no_secret(hostile, outcome)
    within(outcome, 0)


def test_redirects_and_links_to_another_origin_are_never_followed(hostile, tmp_path):
    other = hostile.other
    hostile.server.reset(
        lying(
            hostile,
            {
                "global": same_origin_redirect,  # followed: still the configured origin
                "system_location": redirect_to(other),
                "worker_vm": next_to(lambda r: other.url.rstrip("/") + r.path + "&offset=500"),
            },
        )
    )
    outcome = run_both(hostile, tmp_path)
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
                "worker_vm": next_to(lambda r: urlsplit(r.path).path + "?offset=0&limit=500"),
            },
        )
    )
    outcome = run_both(hostile, tmp_path)
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
    outcome = run_both(hostile, tmp_path)
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
    outcome = run_both(hostile, tmp_path)
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
    outcome = run_both(hostile, tmp_path)
    # An empty list is the API's answer for a deployment without locations: the client
    # cannot refuse it; LOC-01 fails on it ("no locations"), NET-01 is the steps' to judge
    # against the site's declared inventory.
    assert outcome.statuses("LOC-01") == {"failed"}
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
    outcome = run_both(hostile, tmp_path)
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
    outcome = run_both(hostile, tmp_path)
    assert {s.status for s in outcome.run.scenarios} == {"failed"}, outcome.run.output
    refused = (
        r"TLS: the certificate is not trusted: Hostname mismatch, certificate is not valid for "
        rf"'{re.escape(NAME)}'\."
    )
    for resource in ("global", "management_vm", "system_location", "authentication"):
        line = rf"{api_line(resource)}: {refused}"
        assert re.search(rf"(?m)^{line}$", outcome.run.output), (line, outcome.run.output)
    assert "Traceback" not in outcome.run.output
    assert outcome.deploy_code == 1
    assert re.fullmatch(rf"accord deploy: {api_line('global')}: {refused}\n", outcome.deploy_err)
    assert_no_secret(hostile, outcome)
    assert not hostile.server.seen  # not one request got through
    within(outcome, 0)


def test_the_run_budget_stops_a_slow_server(hostile, tmp_path):
    budget = 2.0
    hostile.server.reset(slowly(lambda _s, request: hostile.upstream(request), 0.7))
    site_file = hostile.write_site(run_budget=budget)
    outcome = run_both(hostile, tmp_path, site_file)
    statuses = {s.status for s in outcome.run.scenarios}
    assert "failed" in statuses, outcome.run.output
    assert re.search(
        r"pexip-primary: GET https://\S+: the run's budget of 2 s \(\[verification\] "
        r"run_budget\) is spent: not sent",
        outcome.run.output,
    ), outcome.run.output
    assert outcome.deploy_code == 1 and "budget" in outcome.deploy_err, outcome.deploy_err
    assert_no_secret(hostile, outcome)
    assert outcome.seconds < 12 + budget + DEADLINE, outcome.seconds
