"""Writes: POST/PATCH/PUT/DELETE, 405s, secrets, licences, relation bookkeeping."""

from __future__ import annotations

import hashlib

import pytest

from tests.simulator.conftest import CONFIG, STATUS


def sha1(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


def test_post_201_location_then_get(api):
    response = api.post(
        CONFIG + "dns_server/", json={"address": "2001:db8::53", "description": "v6"}
    )
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["Location"] == api.sim.url.rstrip("/") + CONFIG + "dns_server/2/"
    created = api.ok(CONFIG + "dns_server/2/")
    assert created == {
        "address": "2001:db8::53",
        "description": "v6",
        "id": 2,
        "resource_uri": CONFIG + "dns_server/2/",
    }


def test_post_applies_defaults(api):
    api.post(CONFIG + "syslog_server/", json={"address": "log.example.com"})
    created = api.ok(CONFIG + "syslog_server/1/")
    assert (created["port"], created["transport"], created["audit_log"]) == (514, "udp", False)


def test_patch_202_and_read_back(api):
    response = api.patch(
        CONFIG + "global/1/",
        json={"management_qos": 16, "enable_chat": False, "logon_banner": "Authorised use only"},
    )
    assert response.status_code == 202 and response.content == b""
    glb = api.ok(CONFIG + "global/1/")
    assert (glb["management_qos"], glb["enable_chat"], glb["logon_banner"]) == (
        16,
        False,
        "Authorised use only",
    )
    assert glb["enable_sip"] is True  # untouched
    assert api.patch(CONFIG + "global/1/", json={"management_qos": None}).status_code == 202
    assert api.ok(CONFIG + "global/1/")["management_qos"] is None


def test_patch_location_qos_mtu_and_relations(api):
    api.post(CONFIG + "ntp_server/", json={"address": "ntp2.example.com", "key": "k", "key_id": 7})
    response = api.patch(
        CONFIG + "system_location/1/",
        json={
            "media_qos": 51,
            "signalling_qos": 40,
            "mtu": 1400,
            "ntp_servers": [CONFIG + "ntp_server/1/", CONFIG + "ntp_server/2/"],
        },
    )
    assert response.status_code == 202
    location = api.ok(CONFIG + "system_location/1/")
    assert (location["media_qos"], location["signalling_qos"], location["mtu"]) == (51, 40, 1400)
    assert [n["address"] for n in location["ntp_servers"]] == ["pool.ntp.org", "ntp2.example.com"]


def test_put_is_a_full_update(api):
    api.patch(CONFIG + "syslog_server/", json={})  # 405, nothing happens
    api.post(
        CONFIG + "syslog_server/",
        json={"address": "a.example", "port": 6514, "transport": "tls", "audit_log": True},
    )
    response = api.put(CONFIG + "syslog_server/1/", json={"address": "b.example"})
    assert response.status_code == 202
    assert api.ok(CONFIG + "syslog_server/1/") == {
        "address": "b.example",
        "port": 514,
        "transport": "udp",
        "proto_format": "",
        "audit_log": False,
        "support_log": False,
        "web_log": False,
        "syslog_log": False,
        "description": "",
        "id": 1,
        "resource_uri": CONFIG + "syslog_server/1/",
    }
    missing = api.put(CONFIG + "syslog_server/1/", json={"port": 514})
    assert missing.status_code == 400
    assert missing.json() == {"syslog_server": {"address": ["This field is required."]}}


def test_round_trip_with_read_only_fields_unchanged(api):
    obj = api.ok(CONFIG + "dns_server/1/")
    obj["description"] = "round trip"
    assert api.put(obj["resource_uri"], json=obj).status_code == 202
    assert api.ok(CONFIG + "dns_server/1/")["description"] == "round trip"


def test_delete_204_then_404_and_relations_cleaned(api):
    api.post(CONFIG + "dns_server/", json={"address": "192.0.2.54"})
    api.patch(
        CONFIG + "management_vm/1/",
        json={"dns_servers": [CONFIG + "dns_server/1/", CONFIG + "dns_server/2/"]},
    )
    response = api.delete(CONFIG + "dns_server/1/")
    assert response.status_code == 204 and response.content == b""
    assert api.get(CONFIG + "dns_server/1/").status_code == 404
    assert api.delete(CONFIG + "dns_server/1/").status_code == 404
    assert [d["id"] for d in api.ok(CONFIG + "management_vm/1/")["dns_servers"]] == [2]
    assert api.ok(CONFIG + "system_location/1/")["dns_servers"] == []
    # ids are never reused
    api.post(CONFIG + "dns_server/", json={"address": "192.0.2.55"})
    assert [d["id"] for d in api.objects("dns_server")] == [2, 3]


def test_roles_permissions_and_ldap_roles(api):
    perms = {p["name"]: p["resource_uri"] for p in api.objects("permission")}
    guide = [
        "Is an administrator",
        "May use web interface",
        "May use API",
        "May view logs",
        "May generate system snapshot",
    ]
    assert (
        api.post(
            CONFIG + "role/", json={"name": "Auditor", "permissions": [perms[n] for n in guide]}
        ).status_code
        == 201
    )
    auditor = api.objects("role")[-1]
    assert [p["name"] for p in auditor["permissions"]] == guide
    read_only = api.ok(CONFIG + "role/1/")
    keep = [p["resource_uri"] for p in read_only["permissions"] if p["name"] not in guide[3:]]
    assert api.patch(CONFIG + "role/1/", json={"permissions": keep}).status_code == 202
    names = {p["name"] for p in api.ok(CONFIG + "role/1/")["permissions"]}
    assert "May view logs" not in names and "May use API" in names
    api.post(
        CONFIG + "ldap_role/",
        json={"name": "auditors", "ldap_group_dn": "cn=aud", "roles": [auditor["resource_uri"]]},
    )
    assert api.delete(auditor["resource_uri"]).status_code == 204
    assert api.ok(CONFIG + "ldap_role/1/")["roles"] == []
    duplicate = api.post(CONFIG + "role/", json={"name": "Read-only"})
    assert duplicate.json() == {"role": {"name": ["Role with this Name already exists."]}}


def test_worker_create_and_protected_location(api):
    body = {
        "name": "conf04",
        "hostname": "pxconf04",
        "address": "192.0.2.24",
        "netmask": "255.255.255.0",
        "system_location": CONFIG + "system_location/2/",
        "password": "s3cret-ssh",
    }
    assert api.post(CONFIG + "worker_vm/", json=body).status_code == 201
    worker = api.ok(CONFIG + "worker_vm/4/")
    assert worker["password"] == "" and worker["node_type"] == "CONFERENCING"
    assert api.ok(STATUS + "worker_vm/4/")["system_location"] == "Datacenter B"
    again = api.post(CONFIG + "worker_vm/", json=body)
    assert again.status_code == 400
    assert set(again.json()["worker_vm"]) == {"name", "hostname", "address"}
    refused = api.delete(CONFIG + "system_location/2/")
    assert refused.status_code == 400 and "error" in refused.json()
    assert api.ok(CONFIG + "system_location/2/")["name"] == "Datacenter B"
    assert api.delete(CONFIG + "worker_vm/2/").status_code == 204
    assert api.delete(CONFIG + "worker_vm/4/").status_code == 204
    assert api.delete(CONFIG + "system_location/2/").status_code == 204


def test_primary_management_node_cannot_be_deleted(api):
    response = api.delete(CONFIG + "management_vm/1/")
    assert response.status_code == 400
    assert api.ok(CONFIG + "management_vm/1/")["name"] == "mgr01"


@pytest.mark.parametrize(
    ("resource", "field", "value", "ok"),
    [
        ("management_vm/1/", "snmp_authentication_password", "auth-pass-123", True),
        ("management_vm/1/", "snmp_privacy_password", "priv-pass-123", True),
        ("worker_vm/1/", "snmp_authentication_password", "auth-pass-456", True),
        ("worker_vm/2/", "snmp_privacy_password", "priv-pass-456", True),
        ("ntp_server/1/", "key", "ntp-shared-key", True),
        ("authentication/1/", "ldap_bind_password", "bind-pass", True),
        ("global/1/", "legacy_api_password", "legacy-pass", True),
    ],
)
def test_secrets_are_returned_hashed_never_plain(api, resource, field, value, ok):
    assert api.patch(CONFIG + resource, json={field: value}).status_code == 202
    obj = api.ok(CONFIG + resource)
    assert obj[field] == sha1(value)
    assert value not in api.get(CONFIG + resource).text
    assert value not in api.get("/_sim/state").text
    assert api.patch(CONFIG + resource, json={field: ""}).status_code == 202
    assert api.ok(CONFIG + resource)[field] == ""


def test_secret_errors_never_echo_the_value(api):
    long_secret = "TOPSECRET" * 20
    for resource, field in [
        ("management_vm/1/", "snmp_privacy_password"),
        ("ntp_server/1/", "key"),
        ("authentication/1/", "ldap_bind_password"),
        ("global/1/", "legacy_api_password"),
        ("worker_vm/1/", "password"),
    ]:
        response = api.patch(CONFIG + resource, json={field: long_secret})
        assert response.status_code == 400
        assert "TOPSECRET" not in response.text
        assert "(it has 180)" in response.text
    short = api.patch(CONFIG + "management_vm/1/", json={"snmp_authentication_password": "SHORTpw"})
    assert short.json() == {
        "management_vm": {
            "snmp_authentication_password": [
                "Ensure this value has at least 8 characters (it has 7)."
            ]
        }
    }
    assert "SHORTpw" not in short.text
    assert "SHORTpw" not in str(api.ok("/_sim/requests"))


def test_licences(api):
    assert api.ok(STATUS + "licensing/1/")["port_total"] == 0
    response = api.post(CONFIG + "licence/", json={"entitlement_id": "ENT-42"})
    assert response.status_code == 201
    uri = response.headers["Location"].removeprefix(api.sim.url.rstrip("/"))
    licence = api.ok(uri)
    assert licence["entitlement_id"] == "ENT-42" and licence["status"] == "ACTIVATED"
    assert licence["resource_uri"] == uri == CONFIG + f"licence/{licence['fulfillment_id']}/"
    assert api.ok(STATUS + "licensing/1/")["port_total"] == licence["concurrent"] > 0
    assert api.post(CONFIG + "licence/", json={}).json() == {
        "licence": {"entitlement_id": ["This field is required."]}
    }
    # A read-only field is ignored, as tastypie ignores it (the request log names it).
    second = api.post(CONFIG + "licence/", json={"status": "x", "entitlement_id": "E"})
    assert second.status_code == 201
    second_uri = second.headers["Location"].removeprefix(api.sim.url.rstrip("/"))
    assert api.ok(second_uri)["status"] == "ACTIVATED"
    assert api.ok("/_sim/requests")["requests"][-2]["ignored"] == ["status"]
    assert api.delete(second_uri).status_code == 204
    assert api.patch(uri, json={"entitlement_id": "x"}).status_code == 405
    assert api.delete(uri).status_code == 204
    assert api.get(uri).status_code == 404
    assert api.objects("licence") == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", CONFIG + "global/1/", "GET, PATCH"),
        ("DELETE", CONFIG + "global/1/", "GET, PATCH"),
        ("POST", CONFIG + "global/", "GET"),
        ("PATCH", CONFIG + "authentication/", "GET"),
        ("POST", CONFIG + "permission/", "GET"),
        ("PATCH", CONFIG + "permission/1/", "GET"),
        ("DELETE", CONFIG + "dns_server/", "GET, POST"),
        ("PATCH", CONFIG + "dns_server/", "GET, POST"),
        ("POST", CONFIG + "dns_server/1/", "GET, PATCH, PUT, DELETE"),
        ("PUT", CONFIG + "management_vm/1/", "GET, PATCH, DELETE"),
        ("PATCH", CONFIG + "licence/x/", "GET, DELETE"),
        ("POST", STATUS + "alarm/", "GET"),
        ("DELETE", STATUS + "worker_vm/1/", "GET"),
        ("PATCH", STATUS + "licensing/1/", "GET"),
        ("POST", CONFIG, "GET"),
        ("PUT", CONFIG + "global/schema/", "GET"),
        ("OPTIONS", CONFIG + "dns_server/", "GET, POST"),
        ("HEAD", CONFIG + "dns_server/1/", "GET, PATCH, PUT, DELETE"),
    ],
)
def test_methods_not_allowed_are_405_with_allow(api, method, path, allow):
    before = api.state()
    response = api.request(method, path, json={"name": "x"})
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    if method != "HEAD":
        assert set(response.json()) == {"error"}
    assert api.state() == before


def test_management_vm_post_creates_a_secondary_node(api):
    body = {"name": "mgr02", "hostname": "pxmgr02", "address": "192.0.2.11"}
    body["netmask"] = "255.255.255.0"
    response = api.post(CONFIG + "management_vm/", json=body)
    assert response.status_code == 201
    created = api.ok(CONFIG + "management_vm/2/")
    assert created["primary"] is False and created["dns_servers"] == []
    assert [m["primary"] for m in api.objects("management_vm", STATUS)] == [True, False]
    assert api.delete(CONFIG + "management_vm/2/").status_code == 204


def test_oversized_body_is_413(api):
    response = api.patch(CONFIG + "global/1/", data=b"x" * (9 * 1024 * 1024))
    assert response.status_code == 413
    assert set(response.json()) == {"error"}
