"""Open a page in Debian's headless Chromium and report what a person's browser would: every
console message, uncaught exception and browser log entry (a resource that failed to load, a
blocked request), every request the page made, and screenshots of its elements.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe`` (file descriptors
3 and 4, NUL-terminated JSON messages): no port, no websocket library, and, unlike scanning
``--enable-logging=stderr`` for ``CONSOLE`` lines, it also sees the errors the browser itself
raises ("Failed to load resource"), which never reach the renderer's log.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "chromium"
TIMEOUT = 60.0


def command(user_data_dir: Path, width: int, height: int) -> list[str]:
    """The Chromium command line (the pipe is on fds 3 and 4)."""
    return [
        shutil.which(CHROMIUM) or CHROMIUM,
        "--headless=new",
        "--no-sandbox",  # root in a container: the setuid sandbox is unavailable
        "--remote-debugging-pipe",
        f"--user-data-dir={user_data_dir}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "about:blank",
    ]


@dataclass
class Page:
    """What loading one page showed."""

    url: str
    console: list[dict[str, Any]] = field(default_factory=list)  # Runtime.consoleAPICalled
    exceptions: list[dict[str, Any]] = field(default_factory=list)  # Runtime.exceptionThrown
    log: list[dict[str, Any]] = field(default_factory=list)  # Log.entryAdded entries
    requests: list[str] = field(default_factory=list)  # every URL the page requested
    screenshots: dict[str, bytes] = field(default_factory=dict)  # selector -> PNG
    rendered: dict[str, bool] = field(default_factory=dict)  # selector -> has a layout box

    @property
    def errors(self) -> list[str]:
        """Everything a console would show as an error (or any console output at all: the
        report runs no script, so none is expected)."""
        found = [
            f"console.{m['type']}: "
            + " ".join(str(a.get("value", a.get("description", ""))) for a in m["args"])
            for m in self.console
        ]
        found += [
            "uncaught: "
            + e["exceptionDetails"]
            .get("exception", {})
            .get("description", e["exceptionDetails"]["text"])
            for e in self.exceptions
        ]
        found += [
            f"{e['source']} {e['level']}: {e['text']} {e.get('url', '')}".strip()
            for e in self.log
            if e["level"] == "error"
        ]
        return found


class Browser:
    """One headless Chromium, driven over the DevTools pipe."""

    def __init__(self, width: int = 1280, height: int = 1024) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="accord-chromium-")
        self._stderr = tempfile.TemporaryFile()  # never a pipe nobody reads: it would fill
        commands_read, commands_write = os.pipe()
        replies_read, replies_write = os.pipe()
        # Above 9, so "3<&N 4>&M" cannot clobber one with the other (bash: dash takes one digit).
        high_read = fcntl.fcntl(commands_read, fcntl.F_DUPFD_CLOEXEC, 10)
        high_write = fcntl.fcntl(replies_write, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (commands_read, replies_write):
            os.close(fd)
        shell = f'exec "$@" 3<&{high_read} 4>&{high_write} {high_read}<&- {high_write}>&-'
        self.command = command(Path(self._profile.name), width, height)
        self._process = subprocess.Popen(
            ["bash", "-c", shell, "bash", *self.command],
            pass_fds=(high_read, high_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        os.close(high_read)
        os.close(high_write)
        self._send_fd, self._recv_fd = commands_write, replies_read
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.call("Browser.close")
            except (OSError, TimeoutError, RuntimeError):
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for fd in (self._send_fd, self._recv_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        self._profile.cleanup()

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._recv_fd], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer on the DevTools pipe")
            chunk = os.read(self._recv_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events meanwhile are kept)."""
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            request["sessionId"] = session
        os.write(self._send_fd, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._events.append(message)

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(
            e.get("method") == method and e.get("sessionId") == session for e in self._events
        ):
            self._events.append(self._message(deadline))

    def open(
        self,
        path: Path,
        screenshots: tuple[str, ...] = (),
        media: str = "",
        rendered: tuple[str, ...] = (),
    ) -> Page:
        """Load ``path``, collect what it raised, and screenshot each selector's element; with
        ``media`` ("print") as that medium; ``rendered``: whether each selector's first element
        is shown at all (content of a closed ``<details>`` is not)."""
        url = path.resolve().as_uri()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page", "DOM"):
            self.call(f"{domain}.enable", session)
        if media:
            self.call("Emulation.setEmulatedMedia", session, media=media)
        self._events.clear()
        self.call("Page.navigate", session, url=url)
        self._wait_for("Page.loadEventFired", session)
        page = Page(url)
        root = self.call("DOM.getDocument", session)["root"]["nodeId"]
        for selector in screenshots:
            node = self.call("DOM.querySelector", session, nodeId=root, selector=selector)
            if not node.get("nodeId"):
                raise AssertionError(f"{url}: no element matches {selector!r}")
            box = self.call("DOM.getBoxModel", session, nodeId=node["nodeId"])["model"]
            xs, ys = box["border"][0::2], box["border"][1::2]
            clip = {
                "x": min(xs),
                "y": min(ys),
                "width": max(xs) - min(xs),
                "height": max(ys) - min(ys),
                "scale": 1,
            }
            shot = self.call(
                "Page.captureScreenshot",
                session,
                format="png",
                clip=clip,
                captureBeyondViewport=True,
            )
            page.screenshots[selector] = base64.b64decode(shot["data"])
        for selector in rendered:
            # The browser's own answer (Element.checkVisibility), asked over DevTools: the page
            # runs no script of its own.
            found = self.call(
                "Runtime.evaluate",
                session,
                expression=f"document.querySelector({json.dumps(selector)})?.checkVisibility()",
                returnByValue=True,
            )["result"]
            if "value" not in found:
                raise AssertionError(f"{url}: no element matches {selector!r}")
            page.rendered[selector] = found["value"] is True
        # One round trip more, so that anything raised while loading has arrived.
        self.call("DOM.getDocument", session)
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            match event.get("method"):
                case "Runtime.consoleAPICalled":
                    page.console.append(params)
                case "Runtime.exceptionThrown":
                    page.exceptions.append(params)
                case "Log.entryAdded":
                    page.log.append(params["entry"])
                case "Network.requestWillBeSent":
                    page.requests.append(params["request"]["url"])
        self.call("Target.closeTarget", targetId=target)
        return page
