"""`http.request` against a small werkzeug HTTPS app on a random loopback address: the default
and a foreign Host header, verification, client certificates, redacted cookies, errors."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from accord.network import Endpoint
from accord.probes import http
from tests.probes.test_tls_negotiate import (
    SERVER_NAME,
    Pki,
    endpoint_at,
    free_port,
    loopback_address,
    make_pki,
    server_context,
)

COOKIE_VALUE = "s3cr3t-session-value"
PAGE = "<html><body>" + "Pexip Infinity " * 40 + "</body></html>"


def node_app(expected_host: str) -> Any:
    """A WSGI app answering like a node: 400 for a Host it does not serve."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("HTTP_HOST") != expected_host:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"unknown host"]
        path = environ["PATH_INFO"]
        if path == "/admin/":
            start_response(
                "302 Found",
                [("Location", "/admin/login/"), ("WWW-Authenticate", 'Basic realm="admin"')],
            )
            return [b""]
        if path == "/blob":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [bytes(range(256))]
        if path == "/echo":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            received = environ["wsgi.input"].read(size)
            seen = f"{environ['REQUEST_METHOD']} {len(received)} {environ.get('HTTP_X_PROBE')}"
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [seen.encode()]
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
                ("Set-Cookie", f"sessionid={COOKIE_VALUE}; Path=/; Secure; HttpOnly"),
                ("Set-Cookie", f"csrftoken={COOKIE_VALUE}; Path=/; SameSite=Strict"),
                ("X-Not-Kept", "noise"),
            ],
        )
        return [PAGE.encode()]

    return app


@contextmanager
def https_app(address: str, context: ssl.SSLContext) -> Iterator[Endpoint]:
    port = free_port(address)
    server = make_server(address, port, node_app(f"{address}:{port}"), True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield endpoint_at(address, port)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture(scope="module")
def address() -> str:
    return loopback_address()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, address: str) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), SERVER_NAME, address)


@pytest.fixture(scope="module")
def node(address: str, pki: Pki) -> Iterator[Endpoint]:
    with https_app(address, server_context(pki)) as endpoint:
        yield endpoint


def test_default_host_header_is_the_nodes_address_and_port(node, pki):
    exchange = http.request(node, server_name=SERVER_NAME, ca_bundle=pki.ca_file)
    assert exchange.host_header == f"{node.address}:{node.port}"
    assert (exchange.status, exchange.reason) == (200, "OK"), exchange.error
    assert exchange.tls_protocol == "TLSv1.3"
    assert exchange.header("strict-transport-security") == "max-age=31536000; includeSubDomains"
    assert exchange.header("X-Not-Kept") is None
    assert exchange.body_excerpt == PAGE[: http.EXCERPT_CHARS]
    observed = exchange.observation()
    assert observed["request"]["host"] == exchange.host_header
    assert observed["request"]["sni"] == SERVER_NAME
    assert observed["request"]["verified_with"] == str(pki.ca_file)
    assert observed["request"]["client_certificate"] is None


def test_a_foreign_host_header_is_answered_400(node, pki):
    exchange = http.request(
        node, server_name=SERVER_NAME, ca_bundle=pki.ca_file, host_header=http.FOREIGN_HOST
    )
    assert exchange.status == 400 and exchange.body_excerpt == "unknown host"
    assert exchange.observation()["request"]["host"] == "accord-probe.invalid"


def test_set_cookie_values_are_redacted_and_attributes_kept(node, pki):
    exchange = http.request(node, server_name=SERVER_NAME, ca_bundle=pki.ca_file)
    assert exchange.header_values("Set-Cookie") == [
        "sessionid=***; Path=/; Secure; HttpOnly",
        "csrftoken=***; Path=/; SameSite=Strict",
    ]
    observed = exchange.observation()
    assert observed["headers"]["Set-Cookie"][0].startswith("sessionid=***")
    assert COOKIE_VALUE not in repr(exchange) and COOKIE_VALUE not in repr(observed)


def test_redirects_and_challenges_are_shown_not_followed(node, pki):
    exchange = http.request(node, "/admin/", server_name=SERVER_NAME, ca_bundle=pki.ca_file)
    assert exchange.status == 302
    assert exchange.header("Location") == "/admin/login/"
    assert exchange.header("WWW-Authenticate") == 'Basic realm="admin"'


def test_binary_bodies_are_not_excerpted(node, pki):
    exchange = http.request(node, "/blob", server_name=SERVER_NAME, ca_bundle=pki.ca_file)
    assert exchange.status == 200 and exchange.body_excerpt is None


def test_method_body_and_headers_are_sent_and_secret_header_values_hidden(node, pki):
    exchange = http.request(
        node,
        "/echo",
        method="POST",
        server_name=SERVER_NAME,
        ca_bundle=pki.ca_file,
        headers={"X-Probe": "yes", "Authorization": "Basic c2VjcmV0", "Cookie": "a=b"},
        body=b"12345",
    )
    assert exchange.body_excerpt == "POST 5 yes"
    sent = exchange.observation()["request"]
    assert sent["method"] == "POST" and sent["body_bytes"] == 5
    assert sent["headers"] == {
        "Host": exchange.host_header,
        "X-Probe": "yes",
        "Authorization": "***",
        "Cookie": "***",
    }
    assert "c2VjcmV0" not in repr(exchange)


def test_verification_failures_are_reported_as_tls_handshake_errors(node, pki):
    wrong_name = http.request(node, server_name="other.probe.test", ca_bundle=pki.ca_file)
    assert wrong_name.status is None and not wrong_name.answered
    assert wrong_name.error.startswith("TLS handshake: SSLCertVerificationError")
    system_trust = http.request(node, server_name=SERVER_NAME, ca_bundle=None)
    assert system_trust.error.startswith("TLS handshake: SSLCertVerificationError")
    assert system_trust.observation()["request"]["verified_with"] == "system trust store"
    by_address = http.request(node, server_name=None, ca_bundle=pki.ca_file)
    assert by_address.status == 200 and by_address.server_name == node.address


def test_a_closed_port_is_a_tcp_connect_error(address, pki):
    closed = endpoint_at(address, free_port(address))
    exchange = http.request(closed, server_name=SERVER_NAME, ca_bundle=pki.ca_file)
    assert exchange.error.startswith("TCP connect: ConnectionRefusedError")


def test_client_certificate_required_by_the_server(address, pki: Pki, tmp_path: Path):
    strict = server_context(pki, client_certificate=ssl.CERT_REQUIRED)
    with https_app(address, strict) as endpoint:
        presented = http.request(
            endpoint,
            server_name=SERVER_NAME,
            ca_bundle=pki.ca_file,
            client_certificate=pki.client,
        )
        missing = http.request(endpoint, server_name=SERVER_NAME, ca_bundle=pki.ca_file)
    assert presented.status == 200, presented.error
    assert presented.client_certificate
    assert presented.observation()["request"]["client_certificate"].startswith("configured")
    assert "PRIVATE KEY" not in repr(presented.observation())
    assert missing.status is None and missing.error
    # TLS 1.3: the client's handshake is over before the server checks its (empty) certificate,
    # so the refusal shows on sending or reading: the alert itself, an EOF or a reset.
    assert missing.error.startswith(("sending the request: ", "reading the response: "))
