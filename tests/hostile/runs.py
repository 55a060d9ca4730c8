"""What a user runs against a hostile system, and what the hostile tests check of every run.

`run_both` runs `pytest features/ --target live` (a fresh pytest session, `tests.features_run`)
and `accord deploy --dry-run` (in this process, on a thread) at the same time, and times them.
`assert_no_secret` looks for every form a secret travels in, in everything either printed and
in every file the run wrote. `hostile_site` writes a site file and its secrets file (0600).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tomli_w

from accord import cli
from accord.labca import write_private
from accord.site import Verification
from tests.features_run import Run, run_features

# How pytest's summary and Accord's progress lines lead a failure's line in.
PROLOGUE = (
    r"(FAILED \S+ - |[A-Z0-9-]+ failed: "
    r"|\[\s*\d+/\d+\] [A-Z0-9-]+\s+failed\s.*\(\d+ scenarios?\): )?"
)


@dataclass
class Outcome:
    run: Run
    deploy_code: int | None
    deploy_out: str
    deploy_err: str
    seconds: float
    reports: Path

    def statuses(self, requirement: str) -> set[str]:
        return {s.status for s in self.run.scenarios if requirement in s.tags}

    def junit_failures(self) -> list[str]:
        """The ``message`` of every failure junit.xml holds."""
        tree = ET.parse(self.run.reports / "junit.xml")
        return [element.get("message", "") for element in tree.iter("failure")]

    def assert_one_line(self, line: str) -> None:
        """``line`` (a pattern) is how the console and junit.xml say it, never more."""
        shown = [text for text in self.run.output.splitlines() if re.search(line, text)]
        assert shown, (line, self.run.output)
        assert all(re.fullmatch(rf"{PROLOGUE}{line}.*", text) for text in shown), shown
        failures = self.junit_failures()
        assert any(re.fullmatch(rf"{line}[^\n]*", m) for m in failures), (line, failures)
        assert "Traceback" not in self.run.output

    def assert_deploy_error(self, line: str) -> None:
        """`accord deploy` ended with one error line matching ``line``."""
        assert self.deploy_code == 1, (self.deploy_out, self.deploy_err)
        error = self.deploy_err.strip()
        assert "\n" not in error and "Traceback" not in error, error
        assert re.fullmatch(rf"accord deploy: {line}.*", error), (line, error)


def _deploy(site_file: Path, into: dict[str, Any]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        into["code"] = cli.main(["deploy", "--site", str(site_file), "--dry-run"])
    into["out"], into["err"] = out.getvalue(), err.getvalue()


def run_both(site_file: Path, marks: str, tmp_path: Path) -> Outcome:
    """`pytest features/ --target live -m MARKS` and `accord deploy --dry-run` at once."""
    deployed: dict[str, Any] = {}
    started = time.monotonic()
    thread = threading.Thread(target=_deploy, args=(site_file, deployed), daemon=True)
    thread.start()
    reports = tmp_path / "reports"
    run = run_features(reports, "--target", "live", "--site", str(site_file), "-m", marks)
    thread.join(timeout=60)
    seconds = time.monotonic() - started
    assert not thread.is_alive(), "accord deploy --dry-run did not finish"
    (tmp_path / "pytest-output.txt").write_text(run.output)
    return Outcome(
        run,
        deployed.get("code"),
        deployed.get("out", ""),
        deployed.get("err", ""),
        seconds,
        reports,
    )


def forms(value: str, usernames: tuple[str, ...] = ("admin",)) -> set[str]:
    """How a secret may travel: as it is, SHA-1 hex, base64, a Basic token, URL-encoded."""
    raw = value.encode()
    digest = hashlib.sha1(raw).hexdigest()
    found = {value, digest, digest.upper(), base64.b64encode(raw).decode(), quote(value, safe="")}
    return found | {base64.b64encode(f"{u}:{value}".encode()).decode() for u in usernames}


def assert_no_secret(
    secrets: dict[str, str], outcome: Outcome, usernames: tuple[str, ...] = ("admin",)
) -> None:
    """No form of any of ``secrets``' values in any output or file of the run."""
    needles = set().union(*(forms(v, usernames) for v in secrets.values() if len(v) >= 8))
    texts = {
        "pytest's output": outcome.run.output,
        "accord deploy's output": outcome.deploy_out,
        "accord deploy's errors": outcome.deploy_err,
    }
    for path in outcome.reports.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    assert len(texts) > 8, list(texts)  # results.json, cucumber, junit, HDF, OSCAL, HTML...
    for where, text in texts.items():
        leaked = sorted(n for n in needles if n in text)
        assert not leaked, f"{where} holds a secret ({len(leaked)} form(s))"


def hostile_site(
    folder: Path, name: str, document: dict[str, Any], secrets: dict[str, str]
) -> Path:
    """``folder/<name>.toml`` with ``secrets`` in ``folder/<name>-secrets.toml`` (0600). Its
    ``[verification]`` keeps the settings this Accord knows (an Accord without request deadlines
    still loads it: what these tests show of it is then its own behaviour)."""
    secrets_file = folder / f"{name}-secrets.toml"
    write_private(secrets_file, tomli_w.dumps(secrets))
    known = Verification.model_fields
    verification = {k: v for k, v in document.get("verification", {}).items() if k in known}
    document = {
        **document,
        "site": {**document["site"], "secrets_file": secrets_file.name},
        "verification": verification,
    }
    path = folder / f"{name}.toml"
    path.write_text(tomli_w.dumps(document))
    return path
