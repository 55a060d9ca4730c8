"""The command line of `pytest features/`: ``--target``, ``--site``, ``--record``,
``--cassettes``, ``--evidence``, ``--reports``."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.targets import TARGETS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("accord")
    group.addoption(
        "--target",
        choices=sorted(TARGETS),
        default="sim",
        help="where the systems are: sim (default, simulators) or live",
    )
    group.addoption(
        "--site",
        metavar="FILE",
        action="append",
        default=None,
        help="the site file (required for live; optional for sim); repeat it to verify several "
        "sites, each scenario once per site",
    )
    group.addoption(
        "--record",
        metavar="DIR",
        type=Path,
        default=None,
        help="with --target live: record every scenario's API calls and probes into DIR (an "
        "empty folder), secrets scrubbed",
    )
    group.addoption(
        "--cassettes",
        metavar="DIR",
        type=Path,
        default=None,
        help="with --target replay: the recording to replay (what --record wrote)",
    )
    group.addoption(
        "--evidence",
        choices=("all", "minimal"),
        default="all",
        help="all (default): every report format; minimal: results.json, cucumber JSON, JUnit "
        "XML and the manifest only (no HDF, OSCAL or HTML), for runs that need only statuses",
    )
    group.addoption(
        "--reports",
        metavar="DIR",
        default="reports",
        help="where each run's reports folder is written (default: reports/)",
    )
