"""report.html: what it shows, that it is self-contained, and that a real headless Chromium
renders it with no console error and a screenshot showing the summary in its status colours."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image

from accord.beyondtrust.probes import ServedCertificate
from accord.evidence.html import (
    EXPIRY_COLOURS,
    STATUS_COLOURS,
    Certificate,
    chain_picture,
    chains_in,
    render,
    write_html,
)
from accord.evidence.model import RequirementResult
from accord.evidence.oscal import write_oscal
from accord.network import Endpoint
from accord.pki.ca import CA
from accord.probes.tls import Handshake
from tests.evidence import sample
from tests.evidence.chromium import Browser, Page


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    assert write_html(sample.run(), folder) == [folder / "report.html"]
    return folder / "report.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium renders the report: as root, run make debs")
    with Browser(width=1280, height=1024) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def page(browser: Browser, report: Path) -> Page:
    loaded = browser.open(report, screenshots=("#summary", "#certificates", ".banner", "#scope"))
    for selector, png in loaded.screenshots.items():  # kept beside the report, to look at
        (report.parent / f"screenshot-{selector.strip('#')}.png").write_bytes(png)
    return loaded


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def pixels(png: bytes, colour: str) -> int:
    """How many pixels of the screenshot are ``colour`` (#rrggbb), within 2 per channel."""
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(
        count
        for count, rgb in image.getcolors(maxcolors=1 << 24) or []
        if all(abs(a - b) <= 2 for a, b in zip(rgb, target, strict=True))
    )


# --- in a real browser ----------------------------------------------------------------------


def test_chromium_renders_the_report_without_console_errors(page: Page) -> None:
    assert page.errors == []
    assert page.console == [] and page.exceptions == []


def test_the_report_fetches_nothing(page: Page) -> None:
    """Self-contained: the only request the page made is the file itself."""
    assert page.requests == [page.url]


def test_the_console_check_sees_errors(browser: Browser, tmp_path: Path) -> None:
    """The check above is not vacuous: a script error, a console.error and a missing image
    (a browser-side error no renderer log shows) are each reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><title>bad</title><img src='missing.png' alt=''>"
        "<script>console.error('boom'); notDefined();</script>"
    )
    errors = browser.open(bad).errors
    assert any("boom" in e for e in errors), errors
    assert any("notDefined" in e for e in errors), errors
    assert any("missing.png" in e for e in errors), errors


def test_the_screenshot_shows_the_summary_in_status_colours(page: Page) -> None:
    png = page.screenshots["#summary"]
    image = Image.open(io.BytesIO(png))
    assert image.width > 600 and image.height > 150, image.size
    colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    assert len(colours) > 20, "the summary's screenshot is blank"
    for status in ("failed", "not run", "waived", "attested", "passed"):
        background, _ = STATUS_COLOURS[status]
        assert pixels(png, background) > 500, f"no {status} ({background}) in the summary"
    assert pixels(png, STATUS_COLOURS["error"][0]) == 0  # no requirement errored


def test_the_screenshot_shows_the_expiry_timeline(page: Page) -> None:
    png = page.screenshots["#certificates"]
    for state, colour in EXPIRY_COLOURS.items():
        assert pixels(png, colour) > 100, f"no {state} certificate ({colour}) on the timeline"


def test_the_screenshot_shows_the_simulator_banner_and_the_scope(page: Page) -> None:
    banner = page.screenshots[".banner"]
    assert pixels(banner, "#fef7e0") > 20_000 and pixels(banner, "#a65400") > 1_000
    scope = Image.open(io.BytesIO(page.screenshots["#scope"]))
    assert scope.width > 600 and scope.height > 150, scope.size
    assert len(scope.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 20


def test_printed_the_folded_evidence_shows(browser: Browser, report: Path) -> None:
    """On screen an observation's value is folded away; printed (a person's paper copy of the
    evidence) it is there."""
    evidence = ".observation details pre"
    screen = browser.open(report, rendered=(evidence,))
    printed = browser.open(report, media="print", rendered=(evidence,))
    assert screen.rendered[evidence] is False
    assert printed.rendered[evidence] is True
    assert printed.errors == []


@pytest.fixture(scope="module")
def folder_with_evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run's folder as a features run writes it: the OSCAL evidence files, then the report."""
    folder = tmp_path_factory.mktemp("linked")
    write_oscal(sample.run(), folder)
    write_html(sample.run(), folder)
    return folder


def test_each_scenario_links_to_its_evidence_file_in_the_folder(folder_with_evidence) -> None:
    html = (folder_with_evidence / "report.html").read_text()
    links = [
        a["href"] or ""
        for t, a in tags(html)
        if t == "a" and a.get("class") in ("evidence-file", "evidence-path")
    ]
    outside = [h for h in links if not h.startswith("evidence/") or ".." in h or ":" in h]
    assert links and not outside, outside
    assert all((folder_with_evidence / href).is_file() for href in links)
    written = {p.relative_to(folder_with_evidence).as_posix()
               for p in (folder_with_evidence / "evidence").iterdir()}  # fmt: skip
    assert set(links) == written  # every scenario's file, from its row and its evidence
    for tag, attrs in tags(html):
        href = attrs.get("href")
        assert href is None or href.startswith("#") or href in written, (tag, href)


def test_what_each_check_sees_and_cannot_see(report: Path) -> None:
    html = report.read_text()
    for result in sample.run().requirements:
        row = html[html.index(f'<tbody id="req-{result.requirement.id}-lab">') :]
        row = row[: row.index("</tbody>")]
        assert f"<strong>Sees:</strong> {escape(result.requirement.sees)}" in row
        assert f"<strong>Cannot see:</strong> {escape(result.requirement.cannot_see)}" in row


def test_the_scope_lists_every_system_with_its_address_and_version(report: Path) -> None:
    html = report.read_text()
    scope = html[html.index('<section id="scope"') : html.index('<section id="summary"')]
    for item in sample.SCOPE:
        assert escape(item.name) in scope and escape(item.address) in scope
        assert escape(item.version or "—") in scope
    assert "a real appliance has no API that tells its version" in scope


def test_a_summary_by_nist_control(report: Path) -> None:
    html = report.read_text()
    nist = html[html.index('<section id="nist"') : html.index('<section id="requirements"')]
    (row,) = re.findall(r"<tr>\s*<td class=\"id\">SC-8</td>(.*?)</tr>", nist, re.S)
    run = sample.run()
    for result in run.requirements:
        assert f'href="#req-{result.requirement.id}-lab"' in row
    counts = re.findall(r'<td class="n s-cell s-([a-z-]+)">(\d+)</td>', row)
    expected = Counter(r.status.replace(" ", "-") for r in run.requirements)
    assert {status: int(n) for status, n in counts} == dict(expected)


def test_the_action_scenarios_certificates_are_apart(tmp_path: Path) -> None:
    """Certificates served during a scenario of the guides' actions (a scratch system) are
    listed apart, never as the deployment's, nor on its timeline."""
    run = sample.run()
    served = next(r for r in run.requirements if r.requirement.id == "BT-13")
    handshake = sample.handshake([THROWAWAY], "127.0.0.1:9443", "")
    made = sample.scenario(
        "A renewal makes a new certificate",
        ("BT-12",),
        "passed",
        None,
        (sample.observation("served to no SNI", handshake),),
    )
    run.scenarios.append(made)
    act = dataclasses.replace(served.requirement, id="BT-12", proof="act")
    run.requirements.append(RequirementResult(act, "passed", None, (made.name,), site="lab"))
    html = write_html(run, tmp_path)[0].read_text()
    section = html[html.index('<section id="certificates"') : html.index('id="attestations"')]
    deployment, throwaway = section.split("Throwaway certificates of the action scenarios")
    assert "CN=throwaway.scratch.example" in throwaway
    assert "CN=throwaway.scratch.example" not in deployment
    assert "CN=conf01.example.com" in deployment and "CN=conf01.example.com" not in throwaway


THROWAWAY = sample.cert(
    "CN=throwaway.scratch.example",
    "CN=throwaway.scratch.example",
    "e5",
    sample.STARTED + dt.timedelta(days=30),
)


# --- the HTML itself ------------------------------------------------------------------------


def test_the_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    found = tags(html)
    names = {tag for tag, _ in found}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "base"}, names
    for tag, attrs in found:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)  # no event handler
            if name in {"src", "href", "xlink:href", "srcset", "action", "poster", "data"}:
                assert (value or "").startswith("#"), (tag, name, value)
    assert "url(" not in html and "@import" not in html


def test_a_row_per_requirement_with_status_and_reason(report: Path) -> None:
    html = report.read_text()
    run = sample.run()
    for result in run.requirements:
        ids = [a["id"] for t, a in tags(html) if t == "tbody" and a.get("id")]
        assert f"req-{result.requirement.id}-lab" in ids
        assert (
            f'<span class="badge s-{result.status.replace(" ", "-")}">{result.status}</span>'
            in html
        )
    # Escaped, never markup: the failure message carried "<b>".
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html
    assert "&lt;Q3&gt; &amp; its upgrade" in html


def test_evidence_is_collapsible(report: Path) -> None:
    found = tags(report.read_text())
    details = [a for t, a in found if t == "details"]
    # One per requirement, one per observation's value; all closed.
    assert len(details) == 7 + 3
    assert all("open" not in a for a in details)


def test_each_served_chain_is_drawn(report: Path) -> None:
    found = tags(report.read_text())
    svgs = [a for t, a in found if t == "svg"]
    chains = [a for a in svgs if (a.get("aria-label") or "").startswith("Certificate chain")]
    assert len(chains) == 3  # conf01 HTTPS, conf01 SIP TLS, the appliance
    https = next(a["aria-label"] for a in chains if "192.0.2.11:443" in (a["aria-label"] or ""))
    assert https.index("leaf (1 of 3 sent): CN=conf01") < https.index("intermediate (2 of 3")
    assert https.index("intermediate (2 of 3") < https.index("root (3 of 3 sent): CN=Lab Root")
    sip = next(a["aria-label"] for a in chains if "192.0.2.11:5061" in (a["aria-label"] or ""))
    assert "root (not sent): CN=Lab Root CA" in sip
    timeline = [a for a in svgs if (a.get("aria-label") or "").startswith("Expiry timeline")]
    assert len(timeline) == 1 and "4 certificates" in (timeline[0]["aria-label"] or "")


def test_attestation_and_waiver_tables(report: Path) -> None:
    html = report.read_text()
    section = html[html.index('id="attestations"') : html.index('id="waivers"')]
    for cell in ("SECW-09", "reachable only from the management VLAN", "C. Operator"):
        assert cell in section
    assert "2025-02-01" in section and "2026-02-01" in section
    waivers = html[html.index('id="waivers"') :]
    snmp02 = waivers[waivers.index("SNMP-02") : waivers.index("SNMP-03")]
    snmp03 = waivers[waivers.index("SNMP-03") :]
    assert "A. Approver" in snmp02 and "2025-06-30" in snmp02 and "<td>no</td>" in snmp02
    assert "B. Approver" in snmp03 and "yes: reported failed" in snmp03


def test_the_report_adds_nothing_the_run_does_not_hold(report: Path) -> None:
    """The canary reached the steps' observation before redaction; no trace of it is written,
    and the same run gives the same bytes (no clock, no environment)."""
    html = report.read_text()
    assert sample.CANARY not in html
    assert escape('"auth_password": "***"') in html
    assert render(sample.run()) == html


def test_an_empty_run(tmp_path: Path) -> None:
    run = sample.run()
    run.requirements, run.scenarios = [], []
    html = write_html(run, tmp_path)[0].read_text()
    assert "No requirement results in this run." in html
    assert "No served certificate chain was observed" in html


# --- the probes' own observations -----------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> tuple[CA, CA]:
    root = CA.new("Probe Root CA", days=3650)
    return root, root.issue_intermediate("Probe Issuing CA", days=1825)


def test_chains_in_a_tls_handshake_observation(pki: tuple[CA, CA]) -> None:
    """As steps/pexip/wire.py records them: the node's name -> Handshake.observation()."""
    root, issuing = pki
    leaf = issuing.issue_cert("conf01.example.com", days=20)
    endpoint = Endpoint("192.0.2.11", 443, "127.0.0.1", 8443)
    value = {
        "conf01 HTTPS": Handshake(endpoint, "conf01.example.com", chain=leaf.chain).observation(),
        "conf02 HTTPS": Handshake(endpoint, None, error="refused").observation(),
    }
    (chain,) = list(chains_in(value))
    assert chain.label.startswith("conf01 HTTPS, 192.0.2.11:443 (reached at 127.0.0.1:8443)")
    assert [c.subject for c in chain.certificates] == [
        "CN=conf01.example.com",
        "CN=Probe Issuing CA",
    ]
    picture = chain_picture(chain, dt.datetime.now(dt.UTC))
    titles = [box.title for box in picture.boxes]
    assert titles == ["leaf (1 of 2 sent)", "intermediate (2 of 2 sent)", "root (not sent)"]
    assert picture.boxes[2].dashed and "CN=Probe Root CA" in picture.boxes[2].lines[0]


def test_chains_in_a_beyondtrust_observation(pki: tuple[CA, CA]) -> None:
    """As steps/beyondtrust/certificates.py records them: ServedCertificate.observation() (its
    ``leaf`` is not a second chain)."""
    root, _ = pki
    endpoint = Endpoint("pra1.lab.example", 443, "127.0.0.1", 9443)
    value = ServedCertificate(endpoint, "access.lab.example", chain=(root.cert,)).observation()
    (chain,) = list(chains_in(value))
    (cert,) = chain.certificates
    assert cert == Certificate(
        "CN=Probe Root CA",
        "CN=Probe Root CA",
        format(root.cert.serial_number, "x"),
        root.cert.not_valid_after_utc,
        value["leaf"]["sha256"],
    )
    picture = chain_picture(chain, dt.datetime.now(dt.UTC))
    assert [box.title for box in picture.boxes] == ["leaf, self-signed (1 of 1 sent)"]


def test_a_long_subject_wraps_inside_its_box() -> None:
    long = ",".join(f"OU=Organisational Unit {i}" for i in range(12)) + ",CN=node.example.com"
    chain = next(chains_in({"served_chain": [{"subject": long, "issuer": long}]}))
    (box,) = chain_picture(chain, dt.datetime.now(dt.UTC)).boxes
    assert len(box.lines) > 4 and all(len(line) <= 96 for line in box.lines)
    assert box.width >= 96 * 7 and "".join(box.lines).count("OU=") == 24
    assert box.title == "leaf, self-signed (1 of 1 sent)"
