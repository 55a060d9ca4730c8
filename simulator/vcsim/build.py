"""Build Accord's vcsim binary once per machine, outside the repository.

`vcsim_binary()` returns the path of the binary built from this directory's Go sources,
building it first when missing. It lives in ``$XDG_CACHE_HOME/accord/vcsim/<key>/vcsim``
(``~/.cache`` by default), where ``<key>`` is the SHA-256 of the Go sources, so a change to them
builds a new binary and never reuses a stale one. The build runs in GOPATH mode over Debian's
govmomi source (``GO111MODULE=off GOPATH=/usr/share/gocode``) with a private ``GOCACHE`` in the
cache directory, and takes about 20 s the first time.

Without Go or the govmomi source it raises `VcsimBuildError` with one line saying what to
install; it never skips silently.

``python -m simulator.vcsim.build`` builds (or finds) the binary and prints its path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
GOPATH = Path("/usr/share/gocode")
GOVMOMI_SIMULATOR = GOPATH / "src/github.com/vmware/govmomi/simulator"
INSTALL_HINT = "apt-get install -y golang-go golang-github-vmware-govmomi-dev"
BUILD_TIMEOUT = 600.0


class VcsimBuildError(RuntimeError):
    """The vcsim binary cannot be built; the message is one line saying why."""


def go_sources() -> list[Path]:
    """The Go files the binary is built from, in a stable order."""
    return sorted(SOURCE_DIR.glob("*.go"))


def source_key() -> str:
    """SHA-256 over the Go sources' names and contents."""
    digest = hashlib.sha256()
    for source in go_sources():
        digest.update(source.name.encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/accord/vcsim`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accord" / "vcsim"


def _go() -> str:
    """The ``go`` command, or `VcsimBuildError` saying what to install."""
    go = shutil.which("go")
    if go is None or not GOVMOMI_SIMULATOR.is_dir():
        missing = "go" if go is None else f"the govmomi source ({GOVMOMI_SIMULATOR})"
        raise VcsimBuildError(f"vcsim cannot be built: {missing} is missing; run: {INSTALL_HINT}")
    return go


def vcsim_binary() -> Path:
    """The vcsim binary for the current sources, built first if this machine has none."""
    directory = cache_root() / source_key()
    binary = directory / "vcsim"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    go = _go()
    directory.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        GO111MODULE="off",
        GOPATH=str(GOPATH),
        GOCACHE=str(cache_root() / "gocache"),
        GOFLAGS="",
        CGO_ENABLED="0",
    )
    # Build to a temporary name and rename: a concurrent build or an interrupted one never
    # leaves a partial binary under the final name.
    fd, partial = tempfile.mkstemp(prefix=".vcsim-", dir=directory)
    os.close(fd)
    try:
        result = subprocess.run(
            [go, "build", "-o", partial, *(str(s) for s in go_sources())],
            cwd=SOURCE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        if result.returncode != 0:
            detail = " | ".join(result.stderr.strip().splitlines()[-5:])
            raise VcsimBuildError(f"vcsim build failed ({go} build): {detail}")
        os.chmod(partial, 0o755)
        os.replace(partial, binary)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return binary


def main() -> int:
    """Build (or find) the binary and print its path; one line on stderr on failure."""
    try:
        print(vcsim_binary())
    except VcsimBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
