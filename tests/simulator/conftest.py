"""A started Pexip simulator and a small HTTPS client for its tests (real requests, no mocks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.pexip import ManagementNodeSimulator

CONFIG = "/api/admin/configuration/v1/"
STATUS = "/api/admin/status/v1/"
USERNAME = "admin"
PASSWORD = "sim-test-password"


class Api:
    """``requests`` against one simulator; paths are absolute paths (``/api/admin/...``)."""

    def __init__(self, sim: ManagementNodeSimulator, auth: Any = (USERNAME, PASSWORD)) -> None:
        self.sim = sim
        self.base = sim.url.rstrip("/")
        self.session = requests.Session()
        # The environment's REQUESTS_CA_BUNDLE would override a session's `verify`.
        self.session.trust_env = False
        self.session.verify = str(sim.ca_file)
        self.session.auth = auth

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def ok(self, path: str) -> Any:
        """GET that must succeed; returns the JSON body."""
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def objects(self, resource: str, api: str = CONFIG) -> list[dict[str, Any]]:
        return self.ok(f"{api}{resource}/?limit=0")["objects"]

    def state(self) -> dict[str, Any]:
        """The whole state, read in-process (fast); ``http_state`` reads it over /_sim/state."""
        return self.sim.model.snapshot()

    def http_state(self) -> dict[str, Any]:
        return self.ok("/_sim/state")


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagementNodeSimulator]:
    workdir: Path = tmp_path_factory.mktemp("pexip-sim")
    with ManagementNodeSimulator(
        name="pexip-test", username=USERNAME, password=PASSWORD, workdir=workdir
    ) as started:
        yield started


@pytest.fixture
def api(sim: ManagementNodeSimulator) -> Iterator[Api]:
    """A client of the session's simulator, reset to factory-fresh state first (in-process, as
    POST /_sim/reset does; test_control covers the HTTP form), with no fault injected."""
    sim.model.faults.clear()
    sim.model.reset()
    sim.app.log.clear()
    client = Api(sim)
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def network_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagementNodeSimulator]:
    """A simulator whose nodes listen on loopback (one per test module)."""
    workdir = tmp_path_factory.mktemp("pexip-net")
    with ManagementNodeSimulator(
        name="pexip-net",
        username=USERNAME,
        password=PASSWORD,
        workdir=workdir,
        node_listeners=True,
    ) as started:
        yield started
