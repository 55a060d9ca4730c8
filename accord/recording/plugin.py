"""Each scenario recorded or replayed on its own (registered by the root ``conftest.py``).

While recording (``--target live --record DIR``) or replaying (``--target replay``), every
scenario gets its own cassette and observation file, and the connections it makes are made
inside it and closed at its end, so that any scenario replays alone (``-m SNMP-03`` of a full
recording). A scenario the recording does not hold at all (it was recorded with ``-m``) is
reported not run. A request its cassette does not hold fails the scenario with `NotRecorded`,
naming the request, instead of vcrpy's advice on record modes.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from accord.recording.observations import NotRecorded
from accord.systems import Systems


@pytest.fixture(autouse=True)
def _recorded(request: pytest.FixtureRequest) -> Iterator[None]:
    from accord.pytest.evidence import is_scenario

    if not is_scenario(request.function):
        yield
        return
    systems: Systems = request.getfixturevalue("systems")
    if systems.recorder is None:
        yield
        return
    if systems.recorder.replay and not systems.recorder.holds(request.node.nodeid):
        pytest.skip("not run: the recording does not hold this scenario (recorded without it)")
    with systems.recorder.scenario(request.node.nodeid):
        try:
            yield
        finally:
            systems.close()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    try:
        return (yield)
    except CannotOverwriteExistingCassetteException as exc:
        raise NotRecorded(missing(exc)) from None


SOAP_CALL = re.compile(r"<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(?P<call>\w+)")
"""The method of a SOAP request: the first element of its Body (SOAPAction is only vim25's
version)."""


def missing(exc: CannotOverwriteExistingCassetteException) -> str:
    """What a replay asked that its cassette does not hold: the request, and for SOAP its
    method."""
    request = exc.failed_request
    body = request.body if isinstance(request.body, bytes) else b""
    soap = SOAP_CALL.search(body.decode("utf-8", "replace"))
    action = f" (SOAP {soap['call']})" if soap else ""
    cassette = Path(str(getattr(exc.cassette, "_path", ""))).name
    return (
        f"not in the recording ({cassette}): {request.method} {request.uri}{action}; a replay "
        "makes no connection, so every request of the scenario must have been recorded"
    )
