"""The CCI list Accord ships (``accord/evidence/data/cci-nist-rev5.tsv``) is DISA's, as the copy in
``@mitre/hdf-converters`` (installed with SAF by ``make saf``) has it, and a control selects the
CCIs DISA files under it."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from accord.evidence.cci import FILENAME, ccis, references
from accord.requirements import data_file, load_catalogue
from tests.evidence import saf_cli

CCI_NS = {"c": "http://iase.disa.mil/cci"}


def hdf_converters_list() -> tuple[str, str, list[tuple[str, str]]]:
    """(hdf-converters' version, the list's version, every (CCI, rev5 index) in order) from the
    installed package's copy of DISA's U_CCI_List.xml."""
    if not saf_cli.installed():
        pytest.fail("the SAF CLI is not installed: run make saf")
    package = saf_cli.folder() / "node_modules" / "@mitre" / "hdf-converters"
    source = (package / "lib" / "src" / "utils" / "CCI_List.js").read_text(encoding="utf-8")
    root = ET.fromstring(source[source.index("`") + 1 : source.rindex("`")].encode())
    pairs = [
        (item.get("id", ""), reference.get("index", ""))
        for item in root.iterfind(".//c:cci_item", CCI_NS)
        for reference in item.iterfind(".//c:reference", CCI_NS)
        if reference.get("version") == "5"
    ]
    version = root.findtext("c:metadata/c:version", namespaces=CCI_NS) or ""
    return json.loads((package / "package.json").read_text())["version"], version, pairs


def test_the_shipped_list_is_the_one_hdf_converters_ships():
    package_version, list_version, pairs = hdf_converters_list()
    assert list(references()) == pairs
    header = data_file(FILENAME).read_text(encoding="utf-8").split("\n", 4)[:4]
    assert f"version {list_version}:" in header[0]
    assert f"@mitre/hdf-converters {package_version} ships" in " ".join(header)


def test_every_catalogue_control_has_a_cci():
    controls = {c for r in load_catalogue().values() for c in r.nist}
    assert controls and all(ccis(c) for c in controls), [c for c in controls if not ccis(c)]


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        ("CM-6 b", ("CCI-000366",)),  # what DISA's STIGs carry for "configured as the guide says"
        ("SC-8(1)", ("CCI-002421",)),
        ("IA-2(12)", ("CCI-001953", "CCI-001954")),
        ("CM-7 a", ("CCI-000381", "CCI-003948")),
    ],
)
def test_a_control_or_part_selects_its_ccis(control, expected):
    assert ccis(control) == expected


def test_a_whole_control_takes_its_parts_not_its_enhancements():
    indexes = dict(references())
    found = ccis("SC-7")
    assert found and all(re.fullmatch(r"SC-7( [a-z].*)?", indexes[c]) for c in found)
    assert not set(found) & set(ccis("SC-7(3)"))


def test_not_a_control():
    with pytest.raises(ValueError, match="not a NIST"):
        ccis("Section 5")
