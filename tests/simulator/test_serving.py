"""The simulators' HTTPS servers keep connections alive, as a real web server does, and a
reload (`KeptAlive.renew`) closes them: real `requests` sessions over real TLS on loopback."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from accord.pki import CA
from simulator.core.serving import Serving, kept_alive, listen_https


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the client's port (a connection's identity) and what it read of the body:
    all it can on ``/read`` (more than the body's length), none of it elsewhere."""
    body = environ["wsgi.input"].read(1 << 20) if environ["PATH_INFO"] == "/read" else b""
    answer = f"{environ['REMOTE_PORT']} {len(body)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Serving, requests.Session, str]]:
    leaf = CA.new("Serving Test Root").issue_cert("localhost")
    chain = tmp_path / "chain.pem"
    chain.write_text(leaf.key_pem() + leaf.chain_pem)
    (tmp_path / "root.pem").write_text(leaf.root_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    serving = listen_https("127.0.0.1", 0, app, context, who="test", name="serving-test")
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would win over session.verify
    session.verify = str(tmp_path / "root.pem")
    url = f"https://localhost:{serving.server.server_address[1]}"
    try:
        yield serving, session, url
    finally:
        session.close()
        serving.close()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def port(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return response.text.split()[0]


def test_requests_share_one_connection(served):
    _, session, url = served
    first = session.get(f"{url}/a")
    assert "close" not in first.headers.get("Connection", "")
    assert {port(first)} == {port(session.get(f"{url}/{n}")) for n in range(5)}


def test_a_body_the_app_left_unread_does_not_become_the_next_request(served):
    _, session, url = served
    first = session.post(f"{url}/ignore", data=b"x" * 70_000)
    assert first.text.split()[1] == "0"
    again = session.post(f"{url}/read", data=b"y" * 1_000)
    assert again.text.split() == [port(first), "1000"]


def test_a_chunked_body_closes_the_connection(served):
    _, session, url = served
    first = session.post(f"{url}/read", data=iter([b"a" * 10, b"b" * 5]))
    assert first.text.split()[1] == "15"
    assert first.headers["Connection"] == "close"
    assert port(session.get(f"{url}/a")) != port(first)


def test_a_reload_closes_idle_connections_and_the_client_reconnects(served):
    serving, session, url = served
    before = port(session.get(f"{url}/a"))
    kept = kept_alive(serving.server)
    wait_for(lambda: kept.idle_count() == 1)  # the server is done with the answer
    kept.renew()
    after = session.get(f"{url}/a")
    assert port(after) != before
    assert port(session.get(f"{url}/a")) == port(after)


def test_a_client_asking_to_close_is_closed(served):
    _, session, url = served
    first = session.get(f"{url}/a", headers={"Connection": "close"})
    assert first.headers["Connection"] == "close"
    assert port(session.get(f"{url}/a")) != port(first)
