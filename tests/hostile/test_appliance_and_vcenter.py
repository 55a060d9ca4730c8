"""A hostile vCenter and a hostile appliance API: the same promises as the Management Node's.

A `HostileServer` stands in front of the lab's vcsim (pyvmomi's SOAP, the canary password
swapped for the real one on the way) and another in front of the simulated appliances'
certificate API (the API a real appliance does not have: `accord sim` sites only, where the
guide's actions run on the scratch appliance and `accord deploy` makes the site certificate).
What applies of the Management Node's module applies here: the scenarios that read the broken
system never pass and every other one does, one line names the system, the request and what
went wrong, in the console, junit.xml and as `accord deploy --dry-run`'s only error, no form of
any secret anywhere, within the deadlines, and no other origin ever asked.

vCenter's modes: a certificate for another name, a SOAP call answered with a redirect to
another origin over plain HTTP, an HTML page instead of SOAP, silence. The appliance API's: a
redirect to another origin, a field of the wrong type, a body that drips.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Lab
from tests.hostile.runs import Outcome, assert_no_secret, hostile_site, run_both
from tests.hostile.server import Forwarder, HostileServer, Raw, Reply, Request, drip, silence

VCENTER_CANARY = "CANARY-hostile-vcenter-91d3c2"
APPLIANCE_CANARY = "CANARY-hostile-appliance-4b8e06"
VCENTER = {"VM-CPU-01", "VM-MEM-01"}  # read vCenter's inventory
APPLIANCE = {"BT-01"}  # the guide's actions, through the appliance API on the scratch one
UNTOUCHED = {"GLB-02", "BT-08"}  # the Management Node's API; the appliances' TLS listeners
MARKS = " or ".join(sorted(VCENTER | APPLIANCE | UNTOUCHED))
DEADLINE = 1.5
ADDRESS = r"https://127\.0\.0\.1:\d+"


@dataclass
class Systems:
    vcenter: HostileServer
    appliance: HostileServer
    other: HostileServer
    site_file: Path
    secrets: dict[str, str]
    usernames: tuple[str, ...]

    def reset(self) -> None:
        for server in (self.vcenter, self.appliance, self.other):
            server.reset()


@pytest.fixture(scope="module")
def systems(lab: Lab, deployed_snapshot: dict[str, Any]) -> Iterator[Systems]:
    lab.restore(deployed_snapshot)
    folder = lab.site_file.parent
    document = tomllib.loads(lab.site_file.read_text())
    secrets = tomllib.loads((folder / document["site"]["secrets_file"]).read_text())
    vsphere, appliances = document["systems"]["vsphere"], document["systems"]["beyondtrust"]
    real_vcenter = secrets[vsphere["password"]["secret"]]
    real_appliance = secrets[appliances["password"]["secret"]]
    vcenter_forward = Forwarder(
        vsphere["url"].removesuffix("/sdk"),
        str(folder / vsphere["ca_bundle"]),
        swap={VCENTER_CANARY.encode(): real_vcenter.encode()},
    )
    appliance_forward = Forwarder(
        appliances["api_url"],
        str(folder / appliances["ca_bundle"]),
        auth=(appliances["username"], real_appliance),
    )
    with (
        HostileServer(folder, vcenter_forward, name="127.0.0.1") as vcenter,
        HostileServer(folder, appliance_forward, name="127.0.0.1") as appliance,
        HostileServer(folder, tls=False) as other,
    ):
        primary = document["systems"]["pexip"]["primary"]
        primary["console"] = "manual"  # deploy --dry-run prints the wizard's answers
        document["systems"]["pexip"] = {"primary": primary}
        vsphere.update(url=f"{vcenter.url}sdk", ca_bundle=str(vcenter.ca_file))
        vsphere["password"] = {"secret": "hostile_vcenter"}
        appliances.update(api_url=appliance.url, ca_bundle=str(appliance.ca_file))
        appliances["password"] = {"secret": "hostile_appliance"}
        secrets.update(hostile_vcenter=VCENTER_CANARY, hostile_appliance=APPLIANCE_CANARY)
        document["verification"] = {
            "request_deadline": DEADLINE,
            "connect_timeout": 1.0,
            "run_budget": 30.0,
        }
        site_file = hostile_site(folder, "hostile-systems", document, secrets)
        usernames = (vsphere["username"], appliances["username"], primary["username"])
        yield Systems(vcenter, appliance, other, site_file, secrets, usernames)


def check(
    systems: Systems, outcome: Outcome, broken: set[str], line: str, deploy_line: str
) -> None:
    """The scenarios of ``broken`` fail and every other passes; ``line`` is how they fail."""
    for requirement in broken:
        statuses = outcome.statuses(requirement)
        assert statuses and "passed" not in statuses, (requirement, outcome.run.output)
    for requirement in (VCENTER | APPLIANCE | UNTOUCHED) - broken:
        assert outcome.statuses(requirement) == {"passed"}, (requirement, outcome.run.output)
    outcome.assert_one_line(line)
    outcome.assert_deploy_error(deploy_line)
    assert_no_secret(systems.secrets, outcome, systems.usernames)
    assert not systems.other.seen, "another origin was asked"
    assert outcome.seconds < 15 + 2 * DEADLINE, outcome.seconds


def soap(reason: str) -> str:
    """The line of a failed first SOAP call (the service content, before the login)."""
    return rf"vsphere: POST {ADDRESS}/sdk \(RetrieveServiceContent\): {reason}"


def _soap(lie: Any) -> Any:
    """Forward everything but the SOAP calls, which ``lie`` answers."""

    def behaviour(server: HostileServer, request: Request) -> Reply | Raw:
        if request.method == "POST" and request.path == "/sdk":
            return lie(server, request)
        assert server.forward is not None
        return server.forward(request)

    return behaviour


# -- the tests ---------------------------------------------------------------------------------


def test_honest_systems_pass_and_deploy_nothing(systems, tmp_path):
    systems.reset()
    outcome = run_both(systems.site_file, MARKS, tmp_path)
    for requirement in VCENTER | APPLIANCE | UNTOUCHED:
        assert outcome.statuses(requirement) == {"passed"}, (requirement, outcome.run.output)
    assert outcome.deploy_code == 0, outcome.deploy_err
    assert "vsphere: no changes" in outcome.deploy_out
    assert re.search(r"(?m)^beyondtrust .*: no changes", outcome.deploy_out), outcome.deploy_out
    assert_no_secret(systems.secrets, outcome, systems.usernames)


def test_a_vcenter_certificate_for_another_name_is_refused_in_one_line(systems, tmp_path):
    systems.reset()
    systems.vcenter.wrong_name = True
    outcome = run_both(systems.site_file, MARKS, tmp_path)
    line = (
        rf"vsphere: GET {ADDRESS}/sdk/vimServiceVersions\.xml: TLS: the certificate is not "
        r"trusted: IP address mismatch, certificate is not valid for '127\.0\.0\.1'\."
    )
    check(systems, outcome, VCENTER, line, line)
    assert not systems.vcenter.seen


def test_a_vcenter_redirect_to_another_origin_is_not_followed(systems, tmp_path):
    systems.reset()
    location = f"{systems.other.url}sdk"
    systems.vcenter.behaviour = _soap(lambda _s, _r: Reply(302, b"", {"Location": location}))
    outcome = run_both(systems.site_file, MARKS, tmp_path)
    line = soap(r"answered 302 Found, not SOAP \(no redirect is followed\)")
    check(systems, outcome, VCENTER, line, line)


def test_a_vcenter_answering_html_or_nothing_never_passes(systems, tmp_path):
    systems.reset()
    page = Reply(200, b"<html><body>Maintenance</body></html>", {"Content-Type": "text/html"})
    systems.vcenter.behaviour = _soap(lambda _s, _r: page)
    outcome = run_both(systems.site_file, MARKS, tmp_path)
    line = soap(r"not a SOAP answer \(text/html\)")
    check(systems, outcome, VCENTER, line, line)

    systems.reset()
    systems.vcenter.behaviour = _soap(lambda _s, _r: silence())
    outcome = run_both(systems.site_file, MARKS, tmp_path / "silence")
    line = soap(r"no complete answer within 1\.5 s \(request_deadline\)")
    check(systems, outcome, VCENTER, line, line)


def _api(lie: Any) -> Any:
    """Forward everything but the appliance API's reads, which ``lie`` answers; the simulator's
    control plane (``/_sim/``, the scratch appliance's reset) is left alone."""

    def behaviour(server: HostileServer, request: Request) -> Reply | Raw:
        assert server.forward is not None
        if request.method == "GET" and request.path.startswith("/api/"):
            return lie(server, request, server.forward(request))
        return server.forward(request)

    return behaviour


def test_an_appliance_redirect_to_another_origin_is_not_followed(systems, tmp_path):
    systems.reset()
    other = systems.other.url.rstrip("/")
    systems.appliance.behaviour = _api(
        lambda _s, request, _h: Reply(302, b"", {"Location": other + request.path})
    )
    outcome = run_both(systems.site_file, MARKS, tmp_path)
    line = (
        rf"beyondtrust: GET {ADDRESS}/api/appliances\S*: redirected \(302\) to http://127\.0\.0"
        r"\.1:\d+/api/appliances\S*: Accord follows no redirect away from the configured origin"
    )
    check(systems, outcome, APPLIANCE, line, line)


def test_an_appliance_answer_of_the_wrong_type_or_dripping_never_passes(systems, tmp_path):
    systems.reset()

    def wrong_type(_server: HostileServer, _request: Request, honest: Reply) -> Reply:
        text = re.sub(rb'"default": ?(true|false)', rb'"default": "\1"', honest.body)
        return Reply(honest.status, text, honest.headers)

    systems.appliance.behaviour = _api(wrong_type)
    outcome = run_both(systems.site_file, MARKS, tmp_path)
    line = (
        rf"beyondtrust: GET {ADDRESS}/api/appliances/\S+: default: string, where the API "
        r"promises a boolean"
    )
    check(systems, outcome, APPLIANCE, line, line)

    systems.reset()

    def dripping(_server: HostileServer, _request: Request, honest: Reply) -> Raw:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(honest.body)}\r\n\r\n"
        ).encode()
        return drip(head + honest.body, 0.05)

    systems.appliance.behaviour = _api(dripping)
    outcome = run_both(systems.site_file, MARKS, tmp_path / "drip")
    line = (
        rf"beyondtrust: GET {ADDRESS}/api/appliances\S*: no complete answer within 1\.5 s "
        r"\(request_deadline\)"
    )
    check(systems, outcome, APPLIANCE, line, line)
