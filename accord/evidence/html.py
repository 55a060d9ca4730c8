"""``report.html``: the run's evidence for a person, in one self-contained file.

A banner when the run is no evidence about a real system (a run against the simulator, a
replay), the scope (every system verified, where it was reached, its version where an API tells
it, the nodes, hosts, VMs and appliances seen), a summary by guide and section and one by NIST
SP 800-53 control (counts per status), a row per requirement (its status, reason, what its
checks see and cannot see, its scenarios, each linked to its evidence file
``evidence/<slug>.json`` in the same folder, and, folded in ``<details>``, what their steps
observed; printed, the folded evidence is shown and each link says its file), every served
certificate chain drawn as a picture, an expiry timeline of the deployment's certificates, apart
from the throwaway ones the action scenarios made on scratch systems, and the attestation and
waiver tables. A run of several sites has a column per site in the summary (each site's counts)
and in the requirement table (each site's status and reason, and its scenarios' evidence under
the site's name), a scope per site, and a site column in the attestation and waiver tables. A
replay (``RunResult.replayed_from``) says so in the banner and in every requirement's row (with
its reason, at each site). Inline CSS and SVG only: no script, no external URL, nothing to fetch
(the evidence links are relative, to files of the same folder), so the file opens the same from a
share, a mail or an archive.

Everything is written from the ``RunResult`` (observations are redacted upstream) through Jinja2
with autoescaping on; this module only works out what to show and where to draw it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from accord.evidence.model import (
    EVIDENCE_DIR,
    PRECEDENCE,
    AttestationRecord,
    InScope,
    Observation,
    Requirement,
    RequirementResult,
    RunResult,
    ScenarioResult,
    Status,
    WaiverRecord,
    caveat,
    evidence_slugs,
)

REPORT = "report.html"

# Background and text colour of each status (white text on these meets WCAG AA 4.5:1); the
# status is always written out too, so the colour is never the only signal.
STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    "failed": ("#b3261e", "#ffffff"),
    "error": ("#7b1fa2", "#ffffff"),
    "not run": ("#5f6368", "#ffffff"),
    "not applicable": ("#dadce0", "#202124"),
    "waived": ("#a65400", "#ffffff"),
    "attested": ("#1a5fb4", "#ffffff"),
    "passed": ("#1e7b34", "#ffffff"),
}
# A certificate's state on the run's day, in the chain pictures and the timeline.
EXPIRED, EXPIRING, VALID = "expired", "expiring", "valid"
EXPIRY_COLOURS = {EXPIRED: "#b3261e", EXPIRING: "#a65400", VALID: "#1e7b34"}
EXPIRING_WITHIN = dt.timedelta(days=30)

# Chain pictures: monospace text, so a line's width is known without a font engine.
CHAR_WIDTH = 7.3  # px per character of 12 px monospace (DejaVu Sans Mono advances 0.6 em)
LINE_HEIGHT = 16
BOX_PADDING = 10
BOX_GAP = 34  # the arrow between two boxes
WRAP = 96  # characters per line in a box
# The expiry timeline.
TIMELINE_WIDTH = 960
TIMELINE_LABEL = 330  # the certificate's name, left of the chart
TIMELINE_NOTE = 180  # the expiry date and days left, right of the chart
TIMELINE_ROW = 24
TIMELINE_TOP = 34
TIMELINE_TICK_GAP = 40  # px between two tick labels, or the second is left out
# Days from the run, and their labels.
TIMELINE_TICKS: tuple[tuple[float, str], ...] = (
    (-1826, "-5 y"),
    (-365, "-1 y"),
    (-30, "-30 d"),
    (30, "+30 d"),
    (90, "+90 d"),
    (365, "+1 y"),
    (1826, "+5 y"),
    (7305, "+20 y"),
)


@dataclass(frozen=True)
class Certificate:
    """One certificate as a probe's ``describe`` records it."""

    subject: str
    issuer: str
    serial: str
    not_after: dt.datetime | None  # None when the observation's date cannot be read
    sha256: str

    @classmethod
    def from_observed(cls, value: dict[str, Any]) -> Certificate:
        return cls(
            subject=str(value.get("subject", "")),
            issuer=str(value.get("issuer", "")),
            serial=str(value.get("serial", "")),
            not_after=_datetime(value.get("not_after")),
            sha256=str(value.get("sha256", "")),
        )

    @property
    def key(self) -> tuple[str, ...]:
        return (self.sha256,) if self.sha256 else (self.subject, self.issuer, self.serial)

    @property
    def name(self) -> str:
        """The common name, else the whole subject."""
        for part in self.subject.split(","):
            if part.strip().upper().startswith("CN="):
                return part.strip()[3:]
        return self.subject or "(no subject)"

    @property
    def self_issued(self) -> bool:
        return bool(self.subject) and self.subject == self.issuer

    def state(self, day: dt.datetime) -> str:
        if self.not_after is None or self.not_after < day:
            return EXPIRED
        return EXPIRING if self.not_after - day <= EXPIRING_WITHIN else VALID

    def expiry(self, day: dt.datetime) -> str:
        """``2026-01-05 (41 days left)``, ``2024-03-01 (expired 20 days before the run)``."""
        if self.not_after is None:
            return "unknown expiry"
        days = (self.not_after - day).days
        when = self.not_after.date().isoformat()
        if self.not_after < day:
            return f"{when} (expired {-days} days before the run)"
        return f"{when} ({days} days left)"

    def short_expiry(self, day: dt.datetime) -> str:
        """``2026-01-05, 41 d left``, ``2024-03-01, expired``."""
        if self.not_after is None:
            return "unknown expiry"
        when = self.not_after.date().isoformat()
        if self.not_after < day:
            return f"{when}, expired"
        return f"{when}, {(self.not_after - day).days} d left"


@dataclass(frozen=True)
class Chain:
    """A served chain found in an observation: where it was served and its certificates."""

    label: str
    certificates: tuple[Certificate, ...]


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    title: str  # leaf, intermediate, root...
    lines: tuple[str, ...]
    full: str  # the certificate in full, for the box's tooltip
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class ChainPicture:
    label: str
    width: float
    height: float
    boxes: tuple[Box, ...]
    arrows: tuple[tuple[float, float, float], ...]  # x, y from, y to
    description: str  # the picture in words (aria-label)


@dataclass(frozen=True)
class TimelineRow:
    y: float
    name: str
    subject: str
    bar_from: float
    bar_to: float
    colour: str
    note: str


@dataclass(frozen=True)
class Timeline:
    width: float
    height: float
    chart_left: float
    chart_right: float
    run_x: float
    run_label: str
    ticks: tuple[tuple[float, str], ...]
    rows: tuple[TimelineRow, ...]


@dataclass
class SeenCertificate:
    certificate: Certificate
    where: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ObservationView:
    step: str
    what: str
    at: str
    value: str  # indented JSON
    chains: tuple[ChainPicture, ...]


@dataclass(frozen=True)
class ScenarioView:
    scenario: ScenarioResult
    observations: tuple[ObservationView, ...]
    evidence: str | None = None  # its evidence file, relative to the report, when written


@dataclass(frozen=True)
class NistRow:
    """A NIST SP 800-53 control: the requirements mapped to it and their statuses."""

    control: str  # as the control mapping writes it: "CM-6 b", "IA-2(12)"
    requirements: tuple[RequirementResult, ...]
    counts: dict[Status, int]


@dataclass(frozen=True)
class SummaryRow:
    guide: str
    section: str  # "" for the guide's own total
    counts: dict[Status, int]
    total: int


@dataclass(frozen=True)
class SiteCell:
    """One requirement at one site (several sites): its result and its scenarios' evidence."""

    site: str
    result: RequirementResult | None  # None: the run has no result for it at this site
    views: tuple[ScenarioView, ...]


@dataclass(frozen=True)
class RequirementRow:
    """One requirement across the sites of the run (several sites): a cell per site."""

    requirement: Requirement
    cells: tuple[SiteCell, ...]


@dataclass(frozen=True)
class SiteSummaryRow:
    """A guide or section across the sites (several sites): each site's counts per status."""

    guide: str
    section: str  # "" for the guide's own total
    counts: dict[str, dict[Status, int]]  # site -> status -> requirements
    total: int  # requirements in the guide or section


def _datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def chains_in(value: Any, label: str = "") -> Iterator[Chain]:
    """Every non-empty ``served_chain`` (as ``accord.probes.tls`` and the BeyondTrust probe
    record it) anywhere in an observed value, labelled with where it was served."""
    if isinstance(value, dict):
        served = value.get("served_chain")
        if isinstance(served, list) and served and all(isinstance(c, dict) for c in served):
            where = [label] if label else []
            if value.get("connected_to"):
                where.append(str(value["connected_to"]))
            if value.get("sni"):
                where.append(f"SNI {value['sni']}")
            yield Chain(
                ", ".join(where) or "served chain",
                tuple(Certificate.from_observed(c) for c in served),
            )
        for key, item in value.items():
            if key != "served_chain":
                yield from chains_in(item, f"{label}: {key}" if label else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from chains_in(item, label)


def _box_lines(text: str) -> list[str]:
    return textwrap.wrap(text, WRAP, break_on_hyphens=False) or [""]


def chain_picture(chain: Chain, day: dt.datetime) -> ChainPicture:
    """Boxes top to bottom as served (leaf first), each issued by the one below it; when the
    last certificate sent is not self-issued, a dashed box names its issuer (not sent)."""
    certificates = chain.certificates
    entries: list[tuple[str, list[str], str, str, bool]] = []
    for index, cert in enumerate(certificates):
        last = index == len(certificates) - 1
        if index == 0:
            title = "leaf, self-signed" if cert.self_issued else "leaf"
        elif last and cert.self_issued:
            title = "root"
        else:
            title = "intermediate"
        title = f"{title} ({index + 1} of {len(certificates)} sent)"
        lines = [
            *_box_lines(f"subject: {cert.subject}"),
            *_box_lines(f"issuer:  {cert.issuer}"),
            f"expires: {cert.expiry(day)}",
        ]
        full = f"{title}\nsubject: {cert.subject}\nissuer: {cert.issuer}\n"
        full += f"serial: {cert.serial}\nSHA-256: {cert.sha256}"
        entries.append((title, lines, full, EXPIRY_COLOURS[cert.state(day)], False))
    last_cert = certificates[-1]
    if not last_cert.self_issued:
        title = "root (not sent)"
        lines = _box_lines(f"subject: {last_cert.issuer}")
        entries.append((title, lines, f"{title}\n{last_cert.issuer}", "#5f6368", True))
    longest = max(max(len(line) for line in lines) for _, lines, *_ in entries)
    width = max(longest, 24) * CHAR_WIDTH + 2 * BOX_PADDING
    boxes: list[Box] = []
    arrows: list[tuple[float, float, float]] = []
    y = 1.0
    for title, lines, full, colour, dashed in entries:
        height = (len(lines) + 1) * LINE_HEIGHT + 2 * BOX_PADDING
        if boxes:
            arrows.append((width / 2 + 1, boxes[-1].y + boxes[-1].height, y))
        boxes.append(Box(1.0, y, width, height, title, tuple(lines), full, colour, dashed))
        y += height + BOX_GAP
    words = [
        f"{box.title}: {cert.subject}, expires {cert.expiry(day)}"
        for box, cert in zip(boxes, certificates, strict=False)
    ]
    if not last_cert.self_issued:
        words.append(f"{boxes[-1].title}: {last_cert.issuer}")
    return ChainPicture(
        chain.label,
        width + 2,
        y - BOX_GAP + 1,
        tuple(boxes),
        tuple(arrows),
        f"Certificate chain served at {chain.label}, each issued by the next: " + "; ".join(words),
    )


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _days_scale(days: float) -> float:
    """Days from the run on a symmetric logarithmic scale: next month stays readable next to
    a root that expires in twenty years."""
    return math.copysign(math.log10(1 + abs(days)), days)


def timeline(seen: list[SeenCertificate], day: dt.datetime) -> Timeline | None:
    """Every distinct certificate's remaining life as a bar from the run's day to its expiry
    (leftwards, red, once expired), earliest expiry first, on an axis of days from the run
    (logarithmic, ticks labelled)."""
    dated = sorted(
        (s.certificate for s in seen if s.certificate.not_after is not None),
        key=lambda c: (c.not_after, c.name),
    )
    if not dated:
        return None
    days = {c.key: (c.not_after - day) / dt.timedelta(days=1) for c in dated if c.not_after}
    low = _days_scale(min(0.0, *days.values())) - 0.1
    high = _days_scale(max(0.0, *days.values())) + 0.1
    left = TIMELINE_LABEL
    right = TIMELINE_WIDTH - TIMELINE_NOTE

    def x(offset: float) -> float:
        return round(left + (_days_scale(offset) - low) / (high - low) * (right - left), 1)

    ticks: list[tuple[float, str]] = []
    for offset, label in TIMELINE_TICKS:
        if low <= _days_scale(offset) <= high and (
            not ticks or x(offset) - ticks[-1][0] >= TIMELINE_TICK_GAP
        ):
            ticks.append((x(offset), label))
    rows = []
    for index, cert in enumerate(dated):
        start, end = sorted((x(0), x(days[cert.key])))
        rows.append(
            TimelineRow(
                y=TIMELINE_TOP + index * TIMELINE_ROW,
                name=_truncate(cert.name, 44),
                subject=cert.subject,
                bar_from=start,
                bar_to=max(end, start + 2),
                colour=EXPIRY_COLOURS[cert.state(day)],
                note=cert.short_expiry(day),
            )
        )
    return Timeline(
        width=TIMELINE_WIDTH,
        height=TIMELINE_TOP + len(rows) * TIMELINE_ROW + 10,
        chart_left=left,
        chart_right=right,
        run_x=x(0),
        run_label=f"run {day.date().isoformat()}",
        ticks=tuple(ticks),
        rows=tuple(rows),
    )


def summary(requirements: list[RequirementResult]) -> list[SummaryRow]:
    """Counts per status: each guide's total, then its sections (in the run's order)."""
    guides: dict[str, dict[str, dict[Status, int]]] = {}
    for result in requirements:
        sections = guides.setdefault(result.requirement.guide, {})
        counts = sections.setdefault(result.requirement.section, dict.fromkeys(PRECEDENCE, 0))
        counts[result.status] += 1
    rows = []
    for guide, sections in guides.items():
        totals = {s: sum(c[s] for c in sections.values()) for s in PRECEDENCE}
        rows.append(SummaryRow(guide, "", totals, sum(totals.values())))
        rows.extend(SummaryRow(guide, name, c, sum(c.values())) for name, c in sections.items())
    return rows


def nist_summary(requirements: list[RequirementResult]) -> list[NistRow]:
    """Every NIST control the requirements map to, in control order, with each mapped
    requirement's result (at every site) and the counts per status."""
    mapped: dict[str, list[RequirementResult]] = {}
    for result in requirements:
        for control in result.requirement.nist:
            mapped.setdefault(control, []).append(result)
    return [
        NistRow(
            control,
            tuple(results),
            {s: sum(1 for r in results if r.status == s) for s in PRECEDENCE},
        )
        for control, results in sorted(mapped.items(), key=lambda item: _control_order(item[0]))
    ]


def _control_order(control: str) -> tuple[str, int, int, str]:
    match = re.match(r"([A-Z]{2})-(\d+)(?:\((\d+)\))?\s*(.*)", control)
    if match is None:
        return control, 0, 0, ""
    family, number, enhancement, part = match.groups()
    return family, int(number), int(enhancement or 0), part


def made_by_actions(scenario: ScenarioResult, proofs: dict[str, str]) -> bool:
    """Whether a scenario is one of the guides' actions (every requirement it proves is proven
    by ``act``): what it saw was made on a scratch system, not the deployment's."""
    return bool(scenario.requirements) and all(
        "act" in re.findall(r"[a-z]+", proofs.get(rid, "")) for rid in scenario.requirements
    )


def sites_of(run: RunResult) -> list[str]:
    """The run's sites in order: ``RunResult.sites``, else as its requirement results name
    them."""
    return list(run.sites) or _distinct([r.site for r in run.requirements])


def site_summary(requirements: list[RequirementResult], sites: list[str]) -> list[SiteSummaryRow]:
    """`summary` with a column per site: each guide's total, then its sections."""
    rows: dict[tuple[str, str], dict[str, dict[Status, int]]] = {}
    ids: dict[tuple[str, str], set[str]] = {}
    for result in requirements:
        key = (result.requirement.guide, result.requirement.section)
        for where in ((key[0], ""), key):
            counts = rows.setdefault(where, {s: dict.fromkeys(PRECEDENCE, 0) for s in sites})
            if result.site in counts:
                counts[result.site][result.status] += 1
            ids.setdefault(where, set()).add(result.requirement.id)
    guides = list(dict.fromkeys(guide for guide, _ in rows))
    ordered = sorted(rows, key=lambda key: guides.index(key[0]))  # stable: sections in order
    return [SiteSummaryRow(g, sec, rows[(g, sec)], len(ids[(g, sec)])) for g, sec in ordered]


def _scenarios_of(run: RunResult, result: RequirementResult) -> list[ScenarioResult]:
    wanted = result.requirement.id
    return [
        s
        for s in run.scenarios
        if wanted in s.requirements and (not result.site or not s.site or s.site == result.site)
    ]


def _observation_view(observation: Observation, day: dt.datetime) -> ObservationView:
    return ObservationView(
        step=observation.step,
        what=observation.what,
        at=observation.at.isoformat(),
        value=json.dumps(observation.value, indent=2, ensure_ascii=False, default=str),
        chains=tuple(chain_picture(c, day) for c in chains_in(observation.value)),
    )


def certificates_seen(run: RunResult, actions: bool | None = None) -> list[SeenCertificate]:
    """Every distinct certificate in any served chain of the run, with where it was seen; only
    those the action scenarios saw (``actions`` True: made on scratch systems, thrown away), or
    only the others (False: the deployment's)."""
    proofs = {r.requirement.id: r.requirement.proof for r in run.requirements}
    seen: dict[tuple[str, ...], SeenCertificate] = {}
    for scenario in run.scenarios:
        if actions is not None and made_by_actions(scenario, proofs) != actions:
            continue
        for observation in scenario.observations:
            for chain in chains_in(observation.value):
                for cert in chain.certificates:
                    entry = seen.setdefault(cert.key, SeenCertificate(cert))
                    where = f"{observation.what} ({chain.label})"
                    if where not in entry.where:
                        entry.where.append(where)
    return list(seen.values())


def _distinct(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(i for i in items if i is not None))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("accord.evidence", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["slug"] = lambda text: "".join(ch if ch.isalnum() else "-" for ch in str(text))
    return env


def render(run: RunResult, folder: Path | None = None) -> str:
    """The report's HTML (written into ``folder``: links to the evidence files there)."""
    day = run.started if run.started.tzinfo else run.started.replace(tzinfo=dt.UTC)
    sites = sites_of(run)
    files = {
        id(s): f"{EVIDENCE_DIR}/{slug}.json"
        for s, slug in zip(run.scenarios, evidence_slugs(run.scenarios), strict=True)
        if folder is not None and (folder / EVIDENCE_DIR / f"{slug}.json").is_file()
    }
    sections: dict[tuple[str, str], list[tuple[RequirementResult, list[ScenarioView]]]] = {}
    for result in run.requirements:
        views = [
            ScenarioView(
                s, tuple(_observation_view(o, day) for o in s.observations), files.get(id(s))
            )
            for s in _scenarios_of(run, result)
        ]
        key = (result.requirement.guide, result.requirement.section)
        sections.setdefault(key, []).append((result, views))
    site_sections: dict[tuple[str, str], list[RequirementRow]] = {}
    if len(sites) > 1:
        for key, results in sections.items():
            by_id: dict[str, dict[str, tuple[RequirementResult, list[ScenarioView]]]] = {}
            for result, views in results:
                by_id.setdefault(result.requirement.id, {})[result.site] = (result, views)
            site_sections[key] = [
                RequirementRow(
                    next(iter(cells.values()))[0].requirement,
                    tuple(
                        SiteCell(site, cells[site][0], tuple(cells[site][1]))
                        if site in cells
                        else SiteCell(site, None, ())
                        for site in sites
                    ),
                )
                for cells in by_id.values()
            ]
    seen = sorted(
        certificates_seen(run, actions=False),
        key=lambda s: (s.certificate.not_after or day, s.certificate.name),
    )
    throwaway = sorted(
        certificates_seen(run, actions=True),
        key=lambda s: (s.certificate.not_after or day, s.certificate.name),
    )
    scope: dict[str, tuple[InScope, ...]] = {site: run.scope.get(site, ()) for site in sites}
    attestations: list[tuple[str, AttestationRecord]] = _distinct(
        [(r.site, r.attestation) if r.attestation else None for r in run.requirements]
    )
    waivers: list[tuple[str, WaiverRecord]] = _distinct(
        [(r.site, r.waiver) if r.waiver else None for r in run.requirements]
    )
    totals = {s: sum(1 for r in run.requirements if r.status == s) for s in PRECEDENCE}
    site_totals = {
        site: {
            s: sum(1 for r in run.requirements if r.site == site and r.status == s)
            for s in PRECEDENCE
        }
        for site in sites
    }
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            run=run,
            day=day,
            statuses=PRECEDENCE,
            colours=STATUS_COLOURS,
            expiry_colours=EXPIRY_COLOURS,
            totals=totals,
            summary=summary(run.requirements),
            sections=sections,
            several=len(sites) > 1,
            sites=sites,
            site_totals=site_totals,
            site_summary=site_summary(run.requirements, sites),
            site_sections=site_sections,
            seen=seen,
            throwaway=throwaway,
            timeline=timeline(seen, day),
            caveat=caveat(run.target, run.replayed_from),
            scope=scope,
            nist=nist_summary(run.requirements),
            attestations=attestations,
            waivers=waivers,
            today=day.date(),
        )
    )


def write_html(run: RunResult, folder: Path) -> list[Path]:
    """Write ``folder/report.html``; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT
    path.write_text(render(run, folder), encoding="utf-8")
    return [path]
