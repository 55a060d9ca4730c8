"""Client error paths (with `responses`: recorded shapes, not our simulator)."""

from __future__ import annotations

import base64

import pytest
import responses

from accord.http import UnexpectedAnswer
from accord.pexip.client import PAGE, PexipApiError, PexipClient, ReadOnlyError
from accord.secrets import Secret

BASE = "https://mgr.example.com/"
GLOBAL = BASE + "api/admin/configuration/v1/global/1/"
DNS_URI = "/api/admin/configuration/v1/dns_server/"
DNS = BASE + DNS_URI.lstrip("/")


def _client(read_only: bool = True) -> PexipClient:
    return PexipClient(BASE, "admin", Secret("pw-canary"), read_only=read_only)


@responses.activate
def test_field_errors_in_the_real_shape_are_parsed():
    responses.patch(
        GLOBAL,
        status=400,
        json={"global": {"management_qos": ["Ensure this value is less than or equal to 63."]}},
    )
    with pytest.raises(PexipApiError) as info:
        _client(read_only=False).update(
            "/api/admin/configuration/v1/global/1/", {"management_qos": 64}
        )
    assert info.value.status == 400
    assert info.value.field_errors == {
        "management_qos": ["Ensure this value is less than or equal to 63."]
    }
    assert "global.management_qos" in str(info.value)


@responses.activate
def test_a_secret_being_written_never_appears_in_the_error():
    responses.patch(GLOBAL, status=400, json={"global": {"legacy_api_password": ["Too long."]}})
    with pytest.raises(PexipApiError) as info:
        _client(read_only=False).update(
            "/api/admin/configuration/v1/global/1/", {"legacy_api_password": Secret("canary-xyz")}
        )
    assert "canary-xyz" not in str(info.value) and "pw-canary" not in str(info.value)


@responses.activate
def test_non_json_error_bodies_and_401():
    responses.get(GLOBAL, status=401, body="<html>Unauthorized</html>")
    with pytest.raises(PexipApiError, match="401"):
        _client().get_one("global")


@responses.activate
def test_lists_follow_meta_next():
    page1 = {
        "meta": {
            "limit": 1,
            "offset": 0,
            "total_count": 2,
            "previous": None,
            "next": "/api/admin/configuration/v1/dns_server/?limit=1&offset=1",
        },
        "objects": [{"id": 1, "address": "192.0.2.1", "resource_uri": f"{DNS_URI}1/"}],
    }
    page2 = {
        "meta": {
            "limit": 1,
            "offset": 1,
            "total_count": 2,
            "next": None,
            "previous": "/api/admin/configuration/v1/dns_server/?limit=1&offset=0",
        },
        "objects": [{"id": 2, "address": "192.0.2.2", "resource_uri": f"{DNS_URI}2/"}],
    }
    responses.get(
        DNS,
        match=[responses.matchers.query_param_matcher({"limit": "1", "offset": "1"})],
        json=page2,
    )
    responses.get(DNS, json=page1)
    assert [o["id"] for o in _client().list("dns_server")] == [1, 2]


def test_a_read_only_client_refuses_writes_before_the_network():
    client = _client()
    with pytest.raises(ReadOnlyError, match="verification never writes"):
        client.update("/api/admin/configuration/v1/global/1/", {"enable_chat": True})
    with pytest.raises(ReadOnlyError):
        client.create("dns_server", {"address": "192.0.2.9"})
    with pytest.raises(ReadOnlyError):
        client.delete("/api/admin/configuration/v1/dns_server/1/")


def _page(objects: list[dict], total: int | None = None, following: str | None = None) -> dict:
    count = len(objects) if total is None else total
    return {"meta": {"next": following, "total_count": count}, "objects": objects}


def _dns(key: int) -> dict:
    return {"id": key, "address": f"192.0.2.{key}", "resource_uri": f"{DNS_URI}{key}/"}


@responses.activate
def test_a_singleton_listed_empty_is_one_line_not_an_index_error():
    responses.get(BASE + "api/admin/configuration/v1/global/", json=_page([]))
    empty = rf"/global/\?limit={PAGE}&offset=0: 0 objects, where"
    with pytest.raises(UnexpectedAnswer, match=empty):
        _client().list_singleton("global")


@responses.activate
def test_a_list_answer_that_breaks_the_api_promise_is_an_unexpected_answer():
    cases = {
        "not JSON": ({"body": "<html/>", "content_type": "text/html"}, r"not JSON \(text/html"),
        "no objects": ({"json": {"meta": {}}}, r"objects: null, where the API promises a list"),
        "wrong type": (
            {"json": _page([{**_dns(1), "address": 7}])},
            r"objects\[0\]\.address: the number 7, where the API promises a string",
        ),
        "null": ({"json": _page([{**_dns(1), "id": None}])}, r"objects\[0\]\.id: null"),
        "missing": ({"json": _page([{"id": 1, "address": "x"}])}, r"resource_uri: missing"),
        "twice": ({"json": _page([_dns(1), _dns(1)])}, r"dns_server/1/ listed twice"),
        "partial": ({"json": _page([_dns(1)], total=2)}, r"1 objects listed, but meta\.total"),
        "elsewhere": (
            {"json": _page([_dns(1)], 2, "https://other.example.com" + DNS_URI)},
            r"meta\.next leads to another origin \(https://other\.example\.com/",
        ),
        "loop": (
            {"json": _page([_dns(1)], 2, DNS_URI + f"?offset=0&limit={PAGE}")},
            r"meta\.next leads back to a page already read",
        ),
    }
    for name, (answer, message) in cases.items():
        responses.reset()
        responses.get(DNS, **answer)
        with pytest.raises(UnexpectedAnswer, match=message):
            _client().list("dns_server")
        assert len(responses.calls) == 1, name  # nothing else was asked


@responses.activate
def test_a_redirect_elsewhere_is_refused_and_one_on_the_origin_followed():
    responses.get(GLOBAL, status=302, headers={"Location": "http://mgr.example.com/x/"})
    with pytest.raises(
        UnexpectedAnswer, match=r"redirected \(302\) to http://mgr\.example\.com/x/"
    ):
        _client().get_one("global")
    responses.reset()
    moved = GLOBAL + "?moved=1"
    responses.get(moved, json={"id": 1, "resource_uri": "/api/admin/configuration/v1/global/1/"})
    responses.get(GLOBAL, status=301, headers={"Location": moved})
    with pytest.raises(UnexpectedAnswer, match="enable_sip: missing"):  # followed, then checked
        _client().get_one("global")
    assert [c.request.url for c in responses.calls] == [GLOBAL, moved]


@responses.activate
def test_credentials_go_to_the_configured_origin_only():
    responses.get(DNS, json=_page([_dns(1)]))
    _client().list("dns_server")
    token = responses.calls[0].request.headers["Authorization"]
    assert token == "Basic " + base64.b64encode(b"admin:pw-canary").decode()
    outside = PexipClient("https://mgr.example.com/", "admin", Secret("pw-canary"))
    with pytest.raises(UnexpectedAnswer, match="another origin"):
        outside.get("https://evil.example.com/api/admin/configuration/v1/global/1/")
    assert len(responses.calls) == 1


@responses.activate
def test_an_error_page_is_described_never_quoted():
    responses.get(
        GLOBAL, status=500, body="<p>Basic YWRtaW46cHctY2FuYXJ5</p>", content_type="text/html"
    )
    with pytest.raises(PexipApiError) as info:
        _client().get_one("global")
    assert str(info.value) == (
        "pexip: GET https://mgr.example.com/api/admin/configuration/v1/global/1/ -> 500: "
        "Internal Server Error (text/html, 33 bytes)"
    )
