"""The requirement catalogue: every ID with its guide, section, text, proof and controls."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from accord.requirements import CatalogueError, data_file, expand, load_catalogue
from tests.features_run import ROOT, feature_tags

SHARED = ROOT.parent / "shared"
SHIPPED = ("requirements.md", "control-mapping.md")


def test_every_requirement_has_its_guide_section_text_proof_and_a_nist_control():
    catalogue = load_catalogue()
    assert len(catalogue) == 112
    for requirement, row in catalogue.items():
        assert row.id == requirement
        assert row.guide and row.section and row.text and row.proof, row
        assert row.nist, row
        assert row.mapping in ("STIG", "mapped")
        assert bool(row.stig) == (row.mapping == "STIG"), row


def test_ids_are_the_catalogues_in_its_order():
    catalogue = load_catalogue()
    ids = list(catalogue)
    assert ids[:3] == ["HOST-01", "HOST-02", "HOST-03"]
    assert ids[-1] == "BT-13"
    assert feature_tags() <= set(ids)


def test_rows_read_as_written():
    snmp = load_catalogue()["SNMP-04"]
    assert snmp.text.startswith("SNMPv3 read-only answers only with SHA1 authentication")
    assert snmp.proof == "wire"
    assert snmp.section.startswith("Network services (SM: Securing network services")
    assert snmp.guide == "Pexip Infinity Secure Mode Deployment Guide"
    assert load_catalogue()["BT-13"].proof == "act + attest"


def test_a_section_from_two_guides_names_both():
    catalogue = load_catalogue()
    assert catalogue["TLS-16"].guide == (
        "Pexip Infinity Secure Mode Deployment Guide; "
        "Pexip Infinity: Managing TLS and trusted CA certificates"
    )
    assert "later edition" in catalogue["CSR-09"].guide
    assert catalogue["BT-01"].guide == "BeyondTrust Privileged Remote Access SSL Certificates"


@pytest.mark.parametrize(
    ("requirements", "stig", "nist"),
    [
        (
            [f"SNMP-0{n}" for n in range(1, 5)],
            ("VCSA-80-000253 (V-258931)", "ESXI-80-000212 (V-258767)"),
            ("IA-3(1)", "CM-6 b"),
        ),
        (
            [f"TLS-{n:02d}" for n in range(1, 17)]
            + [f"CA-0{n}" for n in range(1, 4)]
            + [f"CSR-{n:02d}" for n in range(1, 11)],
            ("ESXI-80-000229 (V-258784)", "VCSA-80-000195 (V-258928)"),
            ("SC-17", "SC-8", "SC-23", "IA-5(2)"),
        ),
        (["VLAN-01"], ("ESXI-80-000220 (V-258775)", "VCSA-80-000273 (V-258940)"), ("CM-6 b",)),
        (["HOST-02"], ("ESXI-80-000198 (V-258758)",), ("SC-8",)),
        (
            ["HOST-03"],
            ("ESXI-80-000008 (V-258730)", "ESXI-80-000193 (V-258754)"),
            ("AC-10", "CM-7 a", "AC-17(1)"),
        ),
    ],
)
def test_ranges_are_expanded_with_the_stig_items(requirements, stig, nist):
    catalogue = load_catalogue()
    for requirement in requirements:
        row = catalogue[requirement]
        assert (row.mapping, row.stig, row.nist) == ("STIG", stig, nist), requirement


def test_wildcards_and_lists_are_expanded_as_mapped():
    catalogue = load_catalogue()
    for prefix in ("VM-CPU", "VM-MEM", "VM-DISK"):
        rows = [catalogue[f"{prefix}-0{n}"] for n in (1, 2, 3)]
        assert all((r.mapping, r.stig, r.nist) == ("mapped", (), ("SC-6", "SC-5")) for r in rows)
    assert catalogue["HOST-01"].mapping == "mapped" and catalogue["HOST-01"].stig == ()
    assert catalogue["GLB-10"].nist == ("CM-7",)  # "GLB-01..04, GLB-06, GLB-10"
    assert catalogue["GLB-05"].nist == ("SC-5",)
    assert catalogue["ROLE-03"].nist == ("AC-6", "AU-9(4)")
    kinds = [r.mapping for r in catalogue.values()]
    assert kinds.count("STIG") == 45 and kinds.count("mapped") == 67


def test_expand():
    known = ["A-01", "A-02", "A-03", "B-X-01", "B-X-02", "B-Y-01"]
    assert expand("A-01..03", known) == ["A-01", "A-02", "A-03"]
    assert expand("B-X-*", known) == ["B-X-01", "B-X-02"]
    assert expand("A-02, B-Y-01", known) == ["A-02", "B-Y-01"]
    with pytest.raises(CatalogueError, match="not in the catalogue: A-04"):
        expand("A-02..04", known)
    with pytest.raises(CatalogueError, match="matches no requirement"):
        expand("C-*", known)
    with pytest.raises(CatalogueError, match="not a requirement ID"):
        expand("A-1", known)


def _catalogue_files(tmp_path: Path, requirements: str, mapping: str) -> tuple[Path, Path]:
    r, m = tmp_path / "requirements.md", tmp_path / "control-mapping.md"
    r.write_text(requirements)
    m.write_text(mapping)
    return r, m


LEGEND = "Sources: `SM` = `guides/pexip-secure-mode-guide.md`.\n\n"
SECTION = "## Things (SM: a section)\n\n| ID | requirement | proof |\n|---|---|---|\n"
MAPPING = "| requirement IDs | kind | STIG item (V-ID) | NIST 800-53 |\n|---|---|---|---|\n"


def test_a_small_catalogue_loads(tmp_path):
    files = _catalogue_files(
        tmp_path,
        LEGEND + SECTION + "| X-01 | One. | config |\n| X-02 | Two. | wire + attest |\n",
        MAPPING + "| X-01..02 | mapped | — | CM-6 |\n",
    )
    catalogue = load_catalogue(*files)
    assert [(r.id, r.proof, r.section, r.nist) for r in catalogue.values()] == [
        ("X-01", "config", "Things (SM: a section)", ("CM-6",)),
        ("X-02", "wire + attest", "Things (SM: a section)", ("CM-6",)),
    ]


@pytest.mark.parametrize(
    ("requirements", "mapping", "expected"),
    [
        (LEGEND + SECTION + "| X-01 | One. |\n", MAPPING, "requirements.md:7: not a row"),
        (
            LEGEND + SECTION + "| X-01 | One. | config |\n",
            MAPPING,
            "control-mapping.md: no controls for X-01",
        ),
        (
            LEGEND + SECTION + "| X-01 | One. | config |\n",
            MAPPING + "| X-01..02 | mapped | — | CM-6 |\n",
            "control-mapping.md:3: not in the catalogue: X-02",
        ),
        (
            LEGEND + SECTION + "| X-01 | One. | config |\n",
            MAPPING + "| X-01 | STIG | — | CM-6 |\n",
            "control-mapping.md:3: a STIG row names no STIG item",
        ),
        (
            LEGEND + SECTION + "| X-01 | One. | config |\n",
            MAPPING + "| X-01 | mapped | — | CM6 |\n",
            "control-mapping.md:3: not NIST 800-53 controls: ['CM6']",
        ),
        (
            LEGEND + SECTION + "| X-01 | One. | config |\n",
            MAPPING + "| X-01 | mapped | — | CM-6 |\n| X-* | mapped | — | CM-7 |\n",
            "control-mapping.md:4: X-01 is mapped twice",
        ),
        (
            LEGEND + "## Things (ZZ)\n\n| X-01 | One. | config |\n",
            MAPPING,
            "requirements.md:3: no guide of the legend in 'ZZ'",
        ),
        (
            "Sources: `Q` = `guides/unknown.md`.\n" + SECTION,
            MAPPING,
            "the legend names guides Accord has no title for: ['unknown.md']",
        ),
    ],
)
def test_a_broken_catalogue_says_where(tmp_path, requirements, mapping, expected):
    with pytest.raises(CatalogueError) as info:
        load_catalogue(*_catalogue_files(tmp_path, requirements, mapping))
    assert expected in str(info.value)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not next to this checkout")
@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_copies_are_the_shared_files(name):
    shipped = data_file(name).read_text(encoding="utf-8")
    assert shipped == (SHARED / name).read_text(encoding="utf-8"), (
        f"accord/evidence/data/{name} differs from ../shared/{name}: copy it again"
    )


def test_the_catalogue_is_package_data():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["accord.evidence"]
    package = ROOT / "accord" / "evidence"
    shipped = {
        p.relative_to(package).as_posix() for pattern in patterns for p in package.glob(pattern)
    }
    assert {f"data/{name}" for name in SHIPPED} <= shipped


def test_every_requirement_says_what_its_checks_see_and_cannot():
    """check-limits.md, read into the catalogue: every report shows it from there."""
    for requirement, row in load_catalogue().items():
        assert row.sees and row.cannot_see, requirement
        assert "|" not in row.sees + row.cannot_see
    secw = load_catalogue()["SECW-01"]
    assert "443" in secw.sees and "5061" in secw.sees and "console" in secw.cannot_see
    assert "data/check-limits.md" in {
        p.relative_to(ROOT / "accord" / "evidence").as_posix()
        for p in (ROOT / "accord" / "evidence" / "data").glob("*.md")
    }


LIMITS = "| requirement IDs | sees | cannot see |\n|---|---|---|\n"


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (LIMITS + "| X-01 | a | b |\n", "check-limits.md: nothing said of X-02"),
        (LIMITS + "| X-* | a | b |\n| X-02 | c | d |\n", "check-limits.md:4: X-02 is there twice"),
        (LIMITS + "| X-01..02 | a |\n", "check-limits.md:3: not a row"),
    ],
)
def test_broken_check_limits_say_where(tmp_path, limits, expected):
    files = _catalogue_files(
        tmp_path,
        LEGEND + SECTION + "| X-01 | One. | config |\n| X-02 | Two. | wire |\n",
        MAPPING + "| X-01..02 | mapped | — | CM-6 |\n",
    )
    (tmp_path / "check-limits.md").write_text(limits)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(*files, tmp_path / "check-limits.md")
    assert expected in str(info.value)
