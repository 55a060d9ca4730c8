"""What a test report says of a failure: one line for a system's misbehaviour, no secret.

A failing step's report is what JUnit XML, cucumber JSON, results.json (and through it HDF,
OSCAL and the HTML report) and the console show. pytest's long traceback shows each frame's
arguments: for a failure inside the HTTP stack that is urllib3's request, its headers and the
``Authorization`` token among them. So, for every report of a features run
(`accord.pytest.evidence` calls `clean` as the report is made):

- a failure raised by an Accord client (`accord.http.ClientError`: it already says which
  system, which request and what went wrong) or by the HTTP stack itself is cut to one line;
- every other failure text, skip reason and captured section is scrubbed of every secret by
  value (`accord.secrets`).
"""

from __future__ import annotations

import http.client
import ssl

import pytest
import requests
import urllib3

from accord import secrets
from accord.http import ClientError, describe

HTTP_STACK = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    ssl.SSLError,
    http.client.HTTPException,
)


def one_line(exc: BaseException) -> str | None:
    """The one line a failure from a system's client says (None: not such a failure)."""
    if isinstance(exc, ClientError):
        return secrets.scrub(str(exc))
    if isinstance(exc, HTTP_STACK):
        return secrets.scrub(f"{type(exc).__name__}: {describe(exc)}")
    return None


def message(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str:
    """A failure's message for results.json: its one line, or pytest's, scrubbed."""
    if excinfo is None:
        return ""
    line = one_line(excinfo.value)
    return line if line is not None else secrets.scrub(excinfo.exconly().strip())


def clean(report: pytest.TestReport, call: pytest.CallInfo[object]) -> None:
    """Cut a client's failure to its line; scrub every other text of the report."""
    line = one_line(call.excinfo.value) if call.excinfo is not None else None
    if report.failed and line is not None:
        report.longrepr = line
    elif isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        path, lineno, reason = report.longrepr
        report.longrepr = (path, lineno, secrets.scrub(str(reason)))
    elif report.longrepr is not None:
        text = str(report.longrepr)
        if secrets.holds_secret(text):
            report.longrepr = secrets.scrub(text)
    report.sections = [(title, secrets.scrub(content)) for title, content in report.sections]
