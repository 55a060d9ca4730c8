"""A recording of a live run, and the recorder that makes or replays it, scenario by scenario.

A recording folder holds:

- ``recording.json``: when it was made, of which site, by which Accord;
- ``scenarios.txt``: the test ID of each scenario recorded, a line each;
- ``site/``: a copy of the site file and the files it names (CA bundles, client certificates),
  with no secrets: no secrets file, and each private key file replaced by a placeholder;
- ``cassettes/<scenario>.yaml``: the scenario's API interactions (vcrpy);
- ``observations/<scenario>.json``: what its wire probes saw (`observations`).

Secrets are scrubbed by substitution (`Scrubber`): each of the site's secrets, and the SHA-1
form a Management Node returns it in, is written as its `stand_in`, which is what the replayed
site resolves it to. So "the LDAP bind password is the site's" is answered on replay as it was
live, and the secret itself is never written.

Only verification is recorded: the guides' actions (on a scratch system) make fresh keys and
certificates on each run, which no recording can answer, so while recording or replaying those
scenarios are reported not run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import socket
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from accord import installed_version
from accord.recording.cassettes import recorder
from accord.recording.observations import Journal, activate
from accord.recording.scrub import Scrubber, is_secret_field
from accord.site import Site, SiteError, credential_refs, stand_in

NOT_RECORDED = (
    "the guides' actions are not recorded or replayed (they make new keys and certificates on "
    "each run); a recording holds the site's verification"
)
KEY_PLACEHOLDER = "not recorded: private keys never leave the site\n"
SITE_FILE = "site.toml"
SCENARIOS = "scenarios.txt"


class RecordingError(ValueError):
    """A recording folder that cannot be written or read; the message says which and why."""


@dataclass(frozen=True)
class Recording:
    """A recording folder: of which site, and when it was made."""

    folder: Path
    site_name: str
    recorded_at: dt.datetime

    @property
    def scenarios(self) -> frozenset[str]:
        """The test IDs of the scenarios recorded (``scenarios.txt``, a line each)."""
        listed = self.folder / SCENARIOS
        return frozenset(listed.read_text().splitlines()) if listed.is_file() else frozenset()

    @property
    def site_file(self) -> Path:
        return self.folder / "site" / SITE_FILE

    def sentence(self) -> str:
        """What every requirement of a replay says."""
        when = self.recorded_at.isoformat(timespec="seconds")
        return f"replayed from a recording made at {when} of {self.site_name}"

    @classmethod
    def create(cls, folder: Path, site: Site) -> Recording:
        """A new recording of ``site`` in ``folder`` (which must be empty or absent)."""
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise RecordingError(f"--record {folder}: not an empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        _copy_site(site, folder / "site")
        result = cls(folder, site.name, dt.datetime.now(dt.UTC))
        meta = {
            "site": result.site_name,
            "recorded_at": result.recorded_at.isoformat(),
            "accord_version": installed_version(),
        }
        (folder / "recording.json").write_text(json.dumps(meta, indent=1) + "\n")
        return result

    @classmethod
    def open(cls, folder: Path) -> Recording:
        """The recording in ``folder``; `RecordingError` when there is none."""
        try:
            meta = json.loads((folder / "recording.json").read_text())
            return cls(folder, meta["site"], dt.datetime.fromisoformat(meta["recorded_at"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RecordingError(
                f"--cassettes {folder}: no recording there (recording.json: {exc})"
            ) from None


class Recorder:
    """Records (or replays) each scenario of one site: `scenario` wraps it."""

    def __init__(self, recording: Recording, site: Site, *, replay: bool) -> None:
        self.recording = recording
        self.replay = replay
        self.scrubber = scrubber_for(site)
        self._vcr = recorder(replay, self.scrubber)
        self._held = recording.scenarios if replay else frozenset()

    @contextmanager
    def scenario(self, nodeid: str) -> Iterator[None]:
        """Inside: the scenario's API calls go to (or come from) its cassette and its probes to
        (or from) its journal; replaying, no connection leaves this machine."""
        name = _file_name(nodeid)
        journal = Journal(
            "replay" if self.replay else "record",
            self.recording.folder / "observations" / f"{name}.json",
            self.scrubber,
        )
        cassette = self._vcr.use_cassette(str(self.recording.folder / "cassettes" / f"{name}.yaml"))
        activate(journal)
        try:
            with cassette, no_network() if self.replay else nullcontext():
                yield
        finally:
            activate(None)
            journal.save()
            if not self.replay:
                with (self.recording.folder / SCENARIOS).open("a") as listed:
                    listed.write(nodeid + "\n")

    def holds(self, nodeid: str) -> bool:
        """Whether the recording being replayed has this scenario (a recording of
        ``-m SNMP-01`` has few)."""
        return nodeid in self._held


def scrubber_for(site: Site) -> Scrubber:
    """Every secret of the site replaced by its stand-in, and every value the site file itself
    gives a secret field (an SNMP community) by `field_stand_in`. A replayed site's secrets and
    such values already are their stand-ins: its scrubber keeps them (and scrubs everything else
    the same way)."""
    pairs = []
    for ref in credential_refs(site.model):
        try:
            value = site.resolve(ref).reveal()
        except SiteError:
            continue  # a secret the run cannot read is one it cannot send either
        pairs.append((value, stand_in(ref)))
    fields = [(v, field_stand_in(p)) for p, v in _plain_secrets(_document(site))]
    return Scrubber.for_secrets(pairs, fields)


def field_stand_in(path: str) -> str:
    """What a recording writes for a value the site file gives a secret field (``path``, e.g.
    ``pexip.snmp.community``): short, since such fields are (SNMP communities: 16 characters)."""
    return f"recorded-{hashlib.sha256(path.encode()).hexdigest()[:6]}"


def _document(site: Site) -> dict[str, Any]:
    return tomllib.loads(site.path.read_text())


def _plain_secrets(node: Any, path: str = "") -> list[tuple[str, str]]:
    """(dotted path, value) of every string the site file gives a field named like a secret
    (a reference to a secret, ``{ env = ... }`` or ``{ secret = ... }``, names no value)."""
    if isinstance(node, dict) and set(node) in ({"env"}, {"secret"}):
        return []
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            if isinstance(value, str) and is_secret_field(key) and key != "secrets_file":
                found.append((where, value))
            else:
                found += _plain_secrets(value, where)
        return found
    if isinstance(node, list):
        return [f for i, v in enumerate(node) for f in _plain_secrets(v, f"{path}[{i}]")]
    return []


@contextmanager
def no_network() -> Iterator[None]:
    """Any IP connection attempted inside fails with `OSError` saying why (a replay is offline:
    whatever it did not record, it cannot ask)."""
    original = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def refused(self: socket.socket, *args: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"replay: no network (a connection to {args[0]!r} was attempted)")
        return original[0](self, *args)

    socket.socket.connect = refused  # type: ignore[method-assign]
    socket.socket.connect_ex = refused  # type: ignore[method-assign]
    socket.socket.sendto = refused  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = original  # type: ignore[method-assign]


_FILE_KEYS = re.compile(r"(_file|ca_bundle)$")


def _copy_site(site: Site, into: Path) -> None:
    """The site file and the files it names, into ``into``: paths rewritten to the copies (a
    file of the site's folder keeps its relative path, any other goes into ``files/``; a file
    named several times, as one client certificate for every Management Node, is copied once),
    no secrets file, private keys as placeholders (mode 0600, as the site loader wants), and the
    values the site file gives secret fields as their stand-ins."""
    data = _document(site)
    data.get("site", {}).pop("secrets_file", None)
    plain = dict(_plain_secrets(data))
    home = site.path.parent.resolve()
    copied: dict[tuple[Path | None, bool], str] = {}  # a file named several times: one copy

    def copy(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: copy(v, f"{path}.{k}" if path else k) for k, v in node.items()}
        if isinstance(node, list):
            return [copy(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str) and path in plain:
            return field_stand_in(path)
        if isinstance(node, str) and _FILE_KEYS.search(path):
            key = path.rsplit(".", 1)[-1]
            source = (site.file(node), key == "key_file")
            if source not in copied:
                copied[source] = _copy_file(site, node, home, into, key=key)
            return copied[source]
        return node

    text = tomli_w.dumps(copy(data, ""))
    into.mkdir(parents=True, exist_ok=True)
    (into / SITE_FILE).write_text(text)


def _copy_file(site: Site, named: str, home: Path, into: Path, key: str) -> str:
    source = site.file(named)
    assert source is not None
    relative = source.relative_to(home) if source.is_relative_to(home) else None
    target = into / (relative or Path("files") / source.name)
    while target.exists():
        target = target.with_name(f"_{target.name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if key == "key_file" or (source.is_file() and b"PRIVATE KEY" in source.read_bytes()):
        target.write_text(KEY_PLACEHOLDER)
        target.chmod(0o600)
    elif source.is_file():
        shutil.copyfile(source, target)
    return target.relative_to(into).as_posix()


def _file_name(nodeid: str) -> str:
    """A file name for a scenario: readable, unique, short enough."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_")
    if len(name) > 120:
        name = f"{name[:100]}-{hashlib.sha256(nodeid.encode()).hexdigest()[:12]}"
    return name
