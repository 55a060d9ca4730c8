"""Run Accord's vcsim as a child process on a free loopback port, with TLS.

```python
with VcsimProcess(workdir, "administrator@vsphere.local", password, hosts=2) as vcsim:
    si = vcsim.connect()          # pyvmomi, the certificate verified against vcsim.ca_file
    seed(si, spec)
```

The password reaches the binary through its environment, not its command line, and the line
the binary prints (its URL with the credentials) stays in memory: `url` is the URL without
them. The binary's datastore (VM files) lives under ``workdir``.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulator.core.lines import LinesEnded, ProcessLines
from simulator.vcsim.build import vcsim_binary

URL_LINE = re.compile(r"^https://[^@\s]+@(?P<host>[0-9.]+):(?P<port>\d+)(?P<path>/\S*)$")
PASSWORD_ENV = "VCSIM_PASSWORD"
LOOPBACK = "127.0.0.1"


class VcsimError(RuntimeError):
    """vcsim exited or did not print its URL in time (the message carries no secret)."""


class VcsimProcess:
    """Accord's vcsim (`simulator/vcsim/main.go`) as a child process.

    ``workdir`` receives the served certificate (`ca_file`, ``vcsim-<pid>-<id>.pem``, removed
    on stop) and the datastore's temporary directory; ``hosts`` standalone ESXi hosts are named
    ``DC0_H0``, ``DC0_H1``...
    """

    def __init__(
        self,
        workdir: Path,
        username: str,
        password: str,
        hosts: int = 1,
        address: str = LOOPBACK,
        single_nic_hosts: int = 0,
    ) -> None:
        if hosts < 1:
            raise ValueError("hosts must be at least 1")
        if not 0 <= single_nic_hosts <= hosts:
            raise ValueError("single_nic_hosts must be between 0 and hosts")
        self.single_nic_hosts = single_nic_hosts
        self.workdir = Path(workdir)
        self.username = username
        self.password = password
        self.hosts = hosts
        self.address = address
        self.ca_file = self.workdir / f"vcsim-{os.getpid()}-{id(self):x}.pem"
        self.host = address
        self.port = 0
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._lines: ProcessLines | None = None

    @property
    def pid(self) -> int | None:
        """The process ID while started, else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 20.0) -> re.Match[str]:
        """The first line matching ``pattern``; `VcsimError` on exit or timeout."""
        if self._lines is None:
            raise VcsimError("vcsim is not started")
        try:
            return self._lines.wait_for(pattern, timeout)
        except TimeoutError:
            raise VcsimError(
                f"vcsim printed no line matching {pattern.pattern!r} in time"
            ) from None
        except LinesEnded as ended:
            raise VcsimError(f"vcsim exited ({ended.code}) before printing its URL") from None

    def start(self, timeout: float = 20.0) -> VcsimProcess:
        """Build the binary if needed, start it and wait for its URL line."""
        if self.running:
            return self
        binary = vcsim_binary()
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TMPDIR=str(self.workdir))
        env[PASSWORD_ENV] = self.password
        args = [
            str(binary),
            "-listen", f"{self.address}:0",
            "-hosts", str(self.hosts),
            "-single-nic-hosts", str(self.single_nic_hosts),
            "-username", self.username,
            "-cert-file", str(self.ca_file),
            "-exit-with-stdin",
        ]  # fmt: skip
        # stdin is a pipe only this process holds: if it dies, vcsim sees the end and exits.
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        self._lines = ProcessLines(self._proc, "vcsim-stdout")
        try:
            match = self.wait_for(URL_LINE, timeout)
        except VcsimError:
            self.stop()
            raise
        self.host = match["host"]
        self.port = int(match["port"])
        self.url = f"https://{self.host}:{self.port}{match['path']}"
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only this vcsim's certificate (name checked)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def connect(self, password: str | None = None) -> Any:
        """A logged-in pyvmomi ``ServiceInstance`` (``password`` defaults to the right one)."""
        from pyVim.connect import SmartConnect

        if not self.running:
            raise VcsimError("vcsim is not running")
        return SmartConnect(
            host=self.host,
            port=self.port,
            user=self.username,
            pwd=self.password if password is None else password,
            sslContext=self.ssl_context(),
            path=urlsplit(self.url).path,
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; removes the certificate file."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdin is not None:
                proc.stdin.close()
            if self._lines is not None:
                self._lines.join(timeout)
            if proc.stdout is not None:
                proc.stdout.close()
        self.ca_file.unlink(missing_ok=True)

    def __enter__(self) -> VcsimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
