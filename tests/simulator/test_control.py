"""The private control plane: /_sim/reset, /_sim/state, /_sim/requests."""

from __future__ import annotations

import copy

import pytest

from tests.simulator.conftest import CONFIG, STATUS


def test_reset_returns_to_factory_state_and_clears_the_log(api):
    fresh = api.http_state()
    api.patch(CONFIG + "global/1/", json={"enable_ssh": False})
    api.post(CONFIG + "syslog_server/", json={"address": "log.example"})
    api.delete(CONFIG + "worker_vm/3/")
    assert api.http_state() != fresh
    assert api.post("/_sim/reset").status_code == 204
    assert api.http_state()["tables"] == fresh["tables"]
    assert api.ok("/_sim/requests") == {"total": 0, "writes": 0, "web": {}, "requests": []}
    assert api.ok(CONFIG + "global/1/")["enable_ssh"] is True


def test_state_snapshot_restores_after_mutations(api):
    api.patch(CONFIG + "management_vm/1/", json={"snmp_mode": "AUTHPRIV", "snmp_username": "u"})
    deployed = api.http_state()
    api.patch(CONFIG + "management_vm/1/", json={"snmp_mode": "STANDARD"})
    api.post(CONFIG + "role/", json={"name": "Auditor"})
    assert api.put("/_sim/state", json=deployed).status_code == 204
    assert api.http_state() == deployed
    assert api.ok(CONFIG + "management_vm/1/")["snmp_mode"] == "AUTHPRIV"
    assert [r["name"] for r in api.objects("role")] == ["Read-only", "Read-write"]
    # ids continue after the restored next_id
    api.post(CONFIG + "role/", json={"name": "Auditor"})
    assert api.objects("role")[-1]["id"] == 3


def _broken(snapshot, how):
    broken = copy.deepcopy(snapshot)
    tables = broken["tables"]
    if how == "format":
        broken["format"] = "other/1"
    elif how == "missing table":
        del tables["configuration/dns_server"]
    elif how == "extra table":
        tables["configuration/static_route"] = {"next_id": 1, "rows": []}
    elif how == "wrong type":
        tables["configuration/global"]["rows"][0]["management_qos"] = "16"
    elif how == "bool as int":
        tables["configuration/global"]["rows"][0]["logs_max_age"] = True
    elif how == "bad choice":
        tables["configuration/global"]["rows"][0]["ocsp_state"] = "MAYBE"
    elif how == "unknown field":
        tables["configuration/dns_server"]["rows"][0]["extra"] = 1
    elif how == "missing field":
        del tables["configuration/dns_server"]["rows"][0]["description"]
    elif how == "dangling relation":
        tables["configuration/management_vm"]["rows"][0]["dns_servers"] = [42]
    elif how == "dangling to-one":
        tables["configuration/worker_vm"]["rows"][0]["system_location"] = 9
    elif how == "duplicate key":
        rows = tables["configuration/dns_server"]["rows"]
        rows.append(dict(rows[0]))
    elif how == "key beyond next_id":
        tables["configuration/dns_server"]["next_id"] = 1
    elif how == "singleton missing":
        tables["configuration/authentication"]["rows"] = []
    elif how == "rows not a list":
        tables["configuration/role"]["rows"] = {}
    elif how == "bad licence key":
        tables["configuration/licence"]["rows"] = [
            {
                "fulfillment_id": "a/b",
                "entitlement_id": "E",
                "product_id": "p",
                "concurrent": 1,
                "status": "ACTIVATED",
                "start_date": "x",
                "expiration_date": "y",
            }
        ]
    elif how == "not an object":
        broken = [broken]
    return broken


@pytest.mark.parametrize(
    "how",
    [
        "format",
        "missing table",
        "extra table",
        "wrong type",
        "bool as int",
        "bad choice",
        "unknown field",
        "missing field",
        "dangling relation",
        "dangling to-one",
        "duplicate key",
        "key beyond next_id",
        "singleton missing",
        "rows not a list",
        "bad licence key",
        "not an object",
    ],
)
def test_malformed_snapshots_are_400_and_change_nothing(api, how):
    before = api.http_state()
    response = api.put("/_sim/state", json=_broken(before, how))
    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed state snapshot: ")
    assert api.http_state() == before


def test_malformed_json_snapshot_is_400(api):
    response = api.put("/_sim/state", data=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed JSON in request body: ")


def test_request_log_counts_api_requests_and_writes(api):
    api.get(CONFIG + "worker_vm/?limit=1&name__icontains=conf")
    api.patch(CONFIG + "global/1/", json={"enable_chat": False})
    api.patch(CONFIG + "global/1/", json={"management_qos": 99})  # 400: still a write
    api.put(CONFIG + "global/1/", json={})  # 405: still a write request
    api.post(CONFIG + "dns_server/", json={"address": "192.0.2.99"})
    api.delete(CONFIG + "dns_server/2/")
    api.get(STATUS + "alarm/")
    api.get("/_sim/state")  # not logged
    log = api.ok("/_sim/requests")
    assert log["total"] == 7 and log["writes"] == 5
    assert log["requests"][0] == {
        "method": "GET",
        "path": CONFIG + "worker_vm/",
        "query": "limit=1&name__icontains=conf",
        "status": 200,
    }
    assert [(r["method"], r["status"]) for r in log["requests"][1:]] == [
        ("PATCH", 202),
        ("PATCH", 400),
        ("PUT", 405),
        ("POST", 201),
        ("DELETE", 204),
        ("GET", 200),
    ]
    assert all(set(r) == {"method", "path", "query", "status"} for r in log["requests"])
    assert api.delete("/_sim/requests").status_code == 204
    assert api.ok("/_sim/requests") == {"total": 0, "writes": 0, "web": {}, "requests": []}
    assert api.put("/_sim/state", json=api.http_state()).status_code == 204
    assert api.ok("/_sim/requests")["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/_sim/reset", 405),
        ("POST", "/_sim/state", 405),
        ("PATCH", "/_sim/requests", 405),
        ("GET", "/_sim/nothing", 404),
        ("GET", "/_sim", 404),
        ("GET", "/_sim/state/", 200),
    ],
)
def test_control_plane_errors(api, method, path, status):
    response = api.request(method, path)
    assert response.status_code == status
    if status == 405:
        assert "Allow" in response.headers and set(response.json()) == {"error"}
