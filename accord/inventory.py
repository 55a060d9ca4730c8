"""What a system shows against what its site file declares: nothing passes on nothing.

A Management Node whose account cannot see its nodes (a role without the right) answers with
empty lists, and the wire probes take their nodes from the API: an "every node" check would
then judge nothing and pass. So an empty list is never a pass, and where the site file
declares a system's inventory (``nodes`` and ``locations`` of ``[systems.pexip.<deployment>]``,
``hosts`` of ``[systems.vsphere]``), what the system shows must be exactly that: fewer, more
or other objects, or one name listed twice, is a problem that names them. Objects are judged
one by one (the API's ``resource_uri``); two objects with one name are never merged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

Obj = dict[str, Any]


def compare(what: str, names: Sequence[str], declared: Sequence[str] | None) -> list[str]:
    """The problems with the ``names`` a system shows of ``what`` ("nodes of pexip-primary"),
    against the ``declared`` ones (None: the site declares none); empty when there are none."""
    if not names:
        wanted = f" (the site declares {', '.join(declared)})" if declared else ""
        return [f"the system shows no {what}{wanted}: an empty list proves nothing"]
    problems = []
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        problems.append(f"{what}: listed more than once: {', '.join(twice)}")
    if declared is not None:
        missing = sorted(set(declared) - set(names))
        extra = sorted(set(names) - set(declared))
        if missing:
            problems.append(
                f"{what}: the site declares {', '.join(missing)}, the system shows none"
            )
        if extra:
            problems.append(f"{what}: the system shows {', '.join(extra)}, the site declares none")
    return problems


def names(objects: Sequence[Obj]) -> list[str]:
    """The ``name`` of each object, as listed."""
    return [str(obj.get("name")) for obj in objects]


def label(obj: Obj, objects: Sequence[Obj]) -> str:
    """How evidence names one object of ``objects``: its name, and its resource URI when
    another object has the same name."""
    name = str(obj.get("name"))
    if sum(1 for other in objects if other.get("name") == name) > 1:
        return f"{name} ({obj.get('resource_uri')})"
    return name
