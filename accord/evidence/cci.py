"""DISA's Control Correlation Identifiers (CCIs) for a NIST SP 800-53 rev5 control.

``data/cci-nist-rev5.tsv`` lists every CCI of DISA's CCI list (``U_CCI_List.xml``) that has a
NIST SP 800-53 Revision 5 reference, one ``CCI<TAB>rev5 index`` pair a line (``CCI-000366`` ``CM-6
b``). It is taken, unchanged but for keeping only the revision 5 references, from the copy of
DISA's list that MITRE's ``@mitre/hdf-converters`` ships (``lib/src/utils/CCI_List.js``, the list
SAF's ``hdf2ckl`` uses itself); ``tests/evidence/test_cci.py`` checks the file against the
package's copy, and its header names the list's version.

A catalogue control selects the CCIs whose rev5 index lies within it, as DISA writes indexes:
"SC-8(1)" is ``SC-8 (1)`` and what is under it (``SC-8 (1) (a)``); "CM-6 b" is ``CM-6 b`` and what
is under it; a whole control "SC-7" is ``SC-7`` and its statement parts (``SC-7 a``), not its
enhancements (``SC-7 (3)``).
"""

from __future__ import annotations

import functools
import re

from accord.requirements import data_file

FILENAME = "cci-nist-rev5.tsv"
_CONTROL = re.compile(r"^\s*([A-Za-z]{2})-(\d+)\s*(?:\(\s*(\d+)\s*\))?\s*([a-z])?\s*$")


@functools.cache
def references() -> tuple[tuple[str, str], ...]:
    """Every (CCI, rev5 index) pair of the shipped list, in its order."""
    pairs = []
    for line in data_file(FILENAME).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        cci, index = line.split("\t")
        pairs.append((cci, index))
    return tuple(pairs)


def ccis(control: str) -> tuple[str, ...]:
    """The CCIs of a catalogue control ("SC-8(1)", "CM-6 b", "SC-7"), in CCI order; `ValueError`
    for what is not a NIST SP 800-53 control."""
    match = _CONTROL.match(control)
    if match is None:
        raise ValueError(f"not a NIST SP 800-53 control: {control!r}")
    family, number, enhancement, part = match.groups()
    stem = f"{family.upper()}-{int(number)}" + (f" ({int(enhancement)})" if enhancement else "")
    wanted = f"{stem} {part}" if part else stem
    found = {
        cci
        for cci, index in references()
        if index == wanted
        or (
            index.startswith(wanted + " ")
            and (part or enhancement or not index[len(wanted) + 1 :].startswith("("))
        )
    }
    return tuple(sorted(found))


def ccis_of(controls: tuple[str, ...] | list[str]) -> list[str]:
    """The CCIs of several controls, each once, in CCI order."""
    return sorted({cci for control in controls for cci in ccis(control)})
