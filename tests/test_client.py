"""Client error paths (with `responses`: recorded shapes, not our simulator)."""

from __future__ import annotations

import pytest
import responses

from accord.pexip.client import PexipApiError, PexipClient, ReadOnlyError
from accord.site import Secret

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
