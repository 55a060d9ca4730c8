"""Requirements: the shape of their IDs, and the catalogue of every requirement ID with its
guide, section, text, proof and controls, read from the catalogue and the control mapping
shipped with Accord.

An ID is a prefix and a two-digit number (``GLB-02``, ``VM-CPU-01``, ``BT-13``): `ID` is its
pattern, `ID_PATTERN` matches a whole string, `TAG` finds ``@ID`` tags in a feature file.

Both are Markdown tables (``data/requirements.md`` and ``data/control-mapping.md``, copies of
``../shared/``, which a test keeps equal). ``requirements.md`` has a legend mapping guide
abbreviations (``SM``, ``SM+``, ``TLS``, ``BT``) to guide files, then one section per part of
the guides, headed ``## <title> (<guides and their sections>)``, each with a table
``| ID | requirement | proof |``. ``control-mapping.md`` has rows
``| requirement IDs | kind | STIG item (V-ID) | NIST 800-53 |`` whose IDs are single IDs, ranges
(``SNMP-01..04``) and wildcards (``VM-CPU-*``).

``check-limits.md`` says, in rows ``| requirement IDs | sees | cannot see |`` named the same way,
what each requirement's scenarios observe and what they cannot: the one place every report takes
it from.

Any row that cannot be read, an ID mapped twice or never, or a guide the legend does not name is
a `CatalogueError` naming the file and line: the catalogue is data Accord ships, so a mistake in
it is Accord's bug and must not pass silently.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

# The guides' titles, by the file the legend names (the legend itself names files only).
GUIDE_TITLES: dict[str, str] = {
    "pexip-secure-mode-guide.md": "Pexip Infinity Secure Mode Deployment Guide",
    "pexip-secure-mode-guide-later.txt": (
        "Pexip Infinity Secure Mode Deployment Guide (later edition)"
    ),
    "pexip-tls-and-trusted-ca-certificates.md": (
        "Pexip Infinity: Managing TLS and trusted CA certificates"
    ),
    "beyondtrust-pra-ssl-certificates.md": (
        "BeyondTrust Privileged Remote Access SSL Certificates"
    ),
}

ID = r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d\d"
ID_PATTERN = re.compile(rf"^{ID}$")
TAG = re.compile(rf"@({ID})\b")
_LEGEND = re.compile(r"`([A-Z][A-Z0-9]*\+?)` = `guides/([^`]+)`")
_SECTION = re.compile(r"^## (?P<title>.+?)(?: \((?P<sources>[^()]*)\))?\s*$")
_ROW = re.compile(rf"^\| (?P<id>{ID}) \| (?P<text>.+) \| (?P<proof>[a-z]+(?: \+ [a-z]+)*) \|$")
_MAPPING_ROW = re.compile(
    r"^\| (?P<ids>[^|]+) \| (?P<kind>STIG|mapped) \| (?P<stig>[^|]+) \| (?P<nist>[^|]+) \|$"
)
_LIMITS_ROW = re.compile(r"^\| (?P<ids>[^|]+) \| (?P<sees>[^|]+) \| (?P<blind>[^|]+) \|$")
_RANGE = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9-]*-)(?P<start>\d\d)\.\.(?P<end>\d\d)$")
_WILDCARD = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9-]*-)\*$")
_STIG_ITEM = re.compile(r"(?P<item>[A-Z]+-\d+-\d{6}) \((?P<vid>V-\d+)")
_NIST = re.compile(r"^[A-Z]{2}-\d+(?:\(\d+\))?(?: [a-z])?$")


@dataclass(frozen=True)
class Requirement:
    """A row of the requirement catalogue (../shared/requirements.md) with its controls
    (../shared/control-mapping.md): ``mapping`` says whether the STIG items state the same
    requirement ("STIG") or the NIST control is Accord's own mapping ("mapped")."""

    id: str
    text: str
    proof: str  # as written: "config", "wire", "act", "config + attest"...
    guide: str  # "Pexip Infinity Secure Mode Deployment Guide", ...
    section: str  # the catalogue's section heading
    stig: tuple[str, ...] = ()
    nist: tuple[str, ...] = ()
    mapping: Literal["STIG", "mapped"] = "mapped"
    sees: str = ""  # what its scenarios observe (data/check-limits.md)
    cannot_see: str = ""  # and what they cannot, for an assessor to examine otherwise


class CatalogueError(ValueError):
    """The shipped catalogue or control mapping cannot be read; the message says where."""


def data_file(name: str) -> Path:
    """A file shipped in ``accord/evidence/data/``."""
    return Path(str(resources.files("accord.evidence").joinpath("data", name)))


def load_catalogue(
    requirements: Path | None = None, mapping: Path | None = None, limits: Path | None = None
) -> dict[str, Requirement]:
    """Every requirement by ID, in the catalogue's order, with its controls and what its checks
    see and cannot (the shipped files unless others are given; without ``limits`` when only the
    other two are given)."""
    if limits is None and requirements is None and mapping is None:
        limits = data_file("check-limits.md")
    return dict(
        _load(
            requirements or data_file("requirements.md"),
            mapping or data_file("control-mapping.md"),
            limits,
        )
    )


@functools.cache
def _load(
    requirements: Path, mapping: Path, limits: Path | None
) -> tuple[tuple[str, Requirement], ...]:
    rows = _read_requirements(requirements)
    controls = _read_mapping(mapping, list(rows))
    missing = [requirement for requirement in rows if requirement not in controls]
    if missing:
        raise CatalogueError(f"{mapping}: no controls for {', '.join(missing)}")
    seen = _read_limits(limits, list(rows)) if limits is not None else {}
    catalogue = []
    for requirement, (text, proof, guide, section) in rows.items():
        kind, stig, nist = controls[requirement]
        sees, cannot_see = seen.get(requirement, ("", ""))
        catalogue.append(
            (
                requirement,
                Requirement(
                    id=requirement,
                    text=text,
                    proof=proof,
                    guide=guide,
                    section=section,
                    stig=stig,
                    nist=nist,
                    mapping=kind,
                    sees=sees,
                    cannot_see=cannot_see,
                ),
            )
        )
    return tuple(catalogue)


def _read_requirements(path: Path) -> dict[str, tuple[str, str, str, str]]:
    """ID -> (text, proof, guide, section) from the catalogue's sections and tables."""
    text = path.read_text(encoding="utf-8")
    guides = {abbreviation: file for abbreviation, file in _LEGEND.findall(text)}
    if not guides:
        raise CatalogueError(f"{path}: no legend of guides (`SM` = `guides/<file>`)")
    unknown = sorted(file for file in guides.values() if file not in GUIDE_TITLES)
    if unknown:
        raise CatalogueError(f"{path}: the legend names guides Accord has no title for: {unknown}")
    abbreviations = "|".join(re.escape(a) for a in sorted(guides, key=len, reverse=True))
    source = re.compile(rf"(?:^|[;,])\s*({abbreviations})\s*(?=$|[:;,])")
    rows: dict[str, tuple[str, str, str, str]] = {}
    section: str | None = None
    guide = ""
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{path}:{number}"
        if line.startswith("## "):
            match = _SECTION.match(line)
            if match is None or not match["sources"]:
                raise CatalogueError(f"{where}: a section heading names no guide: {line!r}")
            named = source.findall(match["sources"])
            if not named:
                raise CatalogueError(f"{where}: no guide of the legend in {match['sources']!r}")
            titles = dict.fromkeys(GUIDE_TITLES[guides[a]] for a in named)
            section, guide = line[3:].strip(), "; ".join(titles)
            continue
        if not line.startswith("| ") or line.startswith(("| ID |", "|---")):
            continue
        row = _ROW.match(line)
        if row is None:
            raise CatalogueError(f"{where}: not a row | ID | requirement | proof |: {line!r}")
        if section is None:
            raise CatalogueError(f"{where}: a requirement before any section heading")
        if row["id"] in rows:
            raise CatalogueError(f"{where}: {row['id']} is in the catalogue twice")
        rows[row["id"]] = (row["text"].strip(), row["proof"], guide, section)
    if not rows:
        raise CatalogueError(f"{path}: no requirements")
    return rows


def _id_rows(
    path: Path, pattern: re.Pattern[str], shape: str
) -> Iterator[tuple[str, re.Match[str]]]:
    """Each table row of a file whose first column names requirement IDs, with where it is;
    `CatalogueError` for a row not of ``pattern``'s shape."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("| ") or line.startswith(("| requirement IDs |", "|---")):
            continue
        row = pattern.match(line)
        if row is None:
            raise CatalogueError(f"{path}:{number}: not a row {shape}: {line!r}")
        yield f"{path}:{number}", row


def _read_mapping(
    path: Path, known: list[str]
) -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """ID -> (kind, STIG items, NIST controls) from the control mapping's rows."""
    controls: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for where, row in _id_rows(path, _MAPPING_ROW, "| IDs | kind | STIG item | NIST |"):
        stig = tuple(f"{m['item']} ({m['vid']})" for m in _STIG_ITEM.finditer(row["stig"]))
        if row["kind"] == "STIG" and not stig:
            raise CatalogueError(f"{where}: a STIG row names no STIG item (ID and V-ID)")
        nist = tuple(control.strip() for control in row["nist"].split(","))
        bad = [control for control in nist if not _NIST.match(control)]
        if bad:
            raise CatalogueError(f"{where}: not NIST 800-53 controls: {bad}")
        for requirement in expand(row["ids"], known, where):
            if requirement in controls:
                raise CatalogueError(f"{where}: {requirement} is mapped twice")
            controls[requirement] = (row["kind"], stig, nist)
    return controls


def _read_limits(path: Path, known: list[str]) -> dict[str, tuple[str, str]]:
    """ID -> (what its checks see, what they cannot) from ``check-limits.md``; every catalogue
    ID exactly once."""
    found: dict[str, tuple[str, str]] = {}
    for where, row in _id_rows(path, _LIMITS_ROW, "| IDs | sees | cannot see |"):
        for requirement in expand(row["ids"], known, where):
            if requirement in found:
                raise CatalogueError(f"{where}: {requirement} is there twice")
            found[requirement] = (row["sees"].strip(), row["blind"].strip())
    missing = [requirement for requirement in known if requirement not in found]
    if missing:
        raise CatalogueError(f"{path}: nothing said of {', '.join(missing)}")
    return found


def expand(ids: str, known: list[str], where: str = "") -> list[str]:
    """The catalogue IDs a mapping row names: ``SNMP-01..04``, ``VM-CPU-*``, ``HOST-01``,
    comma-separated; an ID (or a range's member) the catalogue lacks is a `CatalogueError`."""
    found: list[str] = []
    for part in (p.strip() for p in ids.split(",")):
        if (match := _RANGE.match(part)) is not None:
            start, end = int(match["start"]), int(match["end"])
            if end < start:
                raise CatalogueError(f"{where}: the range {part} ends before it starts")
            named = [f"{match['prefix']}{n:02d}" for n in range(start, end + 1)]
        elif (match := _WILDCARD.match(part)) is not None:
            named = [k for k in known if re.fullmatch(rf"{re.escape(match['prefix'])}\d\d", k)]
            if not named:
                raise CatalogueError(f"{where}: {part} matches no requirement")
        elif re.fullmatch(ID, part):
            named = [part]
        else:
            raise CatalogueError(f"{where}: not a requirement ID, range or wildcard: {part!r}")
        unknown = [n for n in named if n not in known]
        if unknown:
            raise CatalogueError(f"{where}: not in the catalogue: {', '.join(unknown)}")
        found += named
    return found
