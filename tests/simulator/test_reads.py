"""Reads: list shape, pagination, filters, detail, relations, status, schema, 404s."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import CONFIG, STATUS

CONFIG_RESOURCES = [
    "global",
    "management_vm",
    "worker_vm",
    "system_location",
    "role",
    "permission",
    "ldap_role",
    "authentication",
    "dns_server",
    "ntp_server",
    "syslog_server",
    "licence",
    "tls_certificate",
    "certificate_signing_request",
    "ca_certificate",
]
STATUS_RESOURCES = ["management_vm", "worker_vm", "alarm", "licensing"]


@pytest.mark.parametrize(
    "path", [CONFIG + r for r in CONFIG_RESOURCES] + [STATUS + r for r in STATUS_RESOURCES]
)
def test_every_list_has_the_tastypie_shape(api, path):
    body = api.ok(path + "/")
    assert set(body) == {"meta", "objects"}
    assert set(body["meta"]) == {"limit", "next", "offset", "previous", "total_count"}
    assert body["meta"]["limit"] == 20 and body["meta"]["offset"] == 0
    assert body["meta"]["total_count"] == len(body["objects"])
    for obj in body["objects"]:
        uri = obj["resource_uri"]
        assert uri.startswith(path + "/") and uri.endswith("/")
        assert api.ok(uri) == obj


def test_pagination_limit_offset_and_links(api):
    for i in range(25):
        assert api.post(CONFIG + "syslog_server/", json={"address": f"log{i}.example"}).ok
    first = api.ok(CONFIG + "syslog_server/?limit=10")
    assert first["meta"] == {
        "limit": 10,
        "next": CONFIG + "syslog_server/?limit=10&offset=10",
        "offset": 0,
        "previous": None,
        "total_count": 25,
    }
    assert [o["id"] for o in first["objects"]] == list(range(1, 11))
    middle = api.ok(first["meta"]["next"])
    assert [o["id"] for o in middle["objects"]] == list(range(11, 21))
    assert middle["meta"]["previous"] == CONFIG + "syslog_server/?limit=10&offset=0"
    last = api.ok(middle["meta"]["next"])
    assert [o["id"] for o in last["objects"]] == list(range(21, 26))
    assert last["meta"]["next"] is None
    default = api.ok(CONFIG + "syslog_server/")
    assert len(default["objects"]) == 20 and default["meta"]["next"].endswith("limit=20&offset=20")
    everything = api.ok(CONFIG + "syslog_server/?limit=0")
    assert len(everything["objects"]) == 25
    assert everything["meta"]["next"] is None and everything["meta"]["previous"] is None
    beyond = api.ok(CONFIG + "syslog_server/?offset=100")
    assert beyond["objects"] == [] and beyond["meta"]["total_count"] == 25


def test_links_keep_filters(api):
    for i in range(3):
        api.post(CONFIG + "syslog_server/", json={"address": f"log{i}", "transport": "tls"})
    page = api.ok(CONFIG + "syslog_server/?transport=tls&limit=1&offset=1")
    assert page["meta"]["next"] == CONFIG + "syslog_server/?transport=tls&limit=1&offset=2"
    assert page["meta"]["previous"] == CONFIG + "syslog_server/?transport=tls&limit=1&offset=0"


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "offset=-5", "offset=1.5", "limit="])
def test_bad_limit_or_offset_is_400(api, query):
    response = api.get(CONFIG + "worker_vm/?" + query)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


def test_filters_exact_icontains_bool_int(api):
    def names(query):
        return [o["name"] for o in api.ok(CONFIG + "worker_vm/?" + query)["objects"]]

    assert names("name=conf02") == ["conf02"]
    assert names("name=CONF02") == []
    assert names("name__icontains=CONF0") == ["conf01", "conf02", "conf03"]
    assert names("hostname__icontains=conf03") == ["conf03"]
    assert names("maintenance_mode=false") == ["conf01", "conf02", "conf03"]
    assert names("maintenance_mode=True") == []
    assert names("vm_cpu_count=4") == ["conf01", "conf02", "conf03"]
    assert names("id=2") == ["conf02"]
    assert names("order_by=-name") == ["conf03", "conf02", "conf01"]
    statuses = api.ok(STATUS + "worker_vm/?system_location=Datacenter%20A")["objects"]
    assert [s["name"] for s in statuses] == ["conf01", "conf03"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("xyz=1", "The 'xyz' field does not allow filtering."),
        ("system_location=/api/admin/configuration/v1/system_location/1/", None),
        ("snmp_authentication_password=abc", None),
        ("resource_uri=x", None),
        ("maintenance_mode=yes", None),
        ("vm_cpu_count=four", None),
        ("vm_cpu_count__icontains=4", None),
        ("name__gte=a", None),
        ("order_by=nope", None),
    ],
)
def test_bad_filters_are_400(api, query, message):
    response = api.get(CONFIG + "worker_vm/?" + query)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"}
    if message:
        assert body["error"] == message


def test_singletons_live_at_id_1_and_list_as_one_object(api):
    for name in ("global", "authentication"):
        listed = api.ok(CONFIG + f"{name}/")
        assert len(listed["objects"]) == 1
        obj = api.ok(CONFIG + f"{name}/1/")
        assert obj["id"] == 1 and obj["resource_uri"] == CONFIG + f"{name}/1/"
        assert listed["objects"][0] == obj
        assert api.get(CONFIG + f"{name}/2/").status_code == 404
    assert api.ok(CONFIG + "management_vm/1/")["primary"] is True


def test_factory_defaults_are_unhardened(api):
    glb = api.ok(CONFIG + "global/1/")
    assert glb["management_qos"] == 0
    assert glb["enable_ssh"] is True and glb["enable_chat"] is True
    assert glb["error_reporting_enabled"] is True and glb["enable_analytics"] is True
    assert (glb["media_ports_start"], glb["media_ports_end"]) == (40000, 49999)
    assert glb["ocsp_state"] == "OFF" and glb["legacy_api_password"] == ""
    assert len(glb["deployment_uuid"]) == 36
    auth = api.ok(CONFIG + "authentication/1/")
    assert auth["source"] == "LOCAL" and auth["client_certificate"] == "NO"
    assert auth["ldap_user_group_attributes"] == "memberOf"
    roles = {r["name"]: {p["name"] for p in r["permissions"]} for r in api.objects("role")}
    assert set(roles) == {"Read-only", "Read-write"}
    assert {"May view logs", "May generate system snapshot"} <= roles["Read-only"]
    assert "May change configuration" not in roles["Read-only"]
    assert len(roles["Read-write"]) == 9
    assert [p["codename"] for p in api.objects("permission")][:3] == [
        "is_admin",
        "can_use_web_interface",
        "can_use_api",
    ]
    workers = api.objects("worker_vm")
    assert [w["name"] for w in workers] == ["conf01", "conf02", "conf03"]
    assert [w["address"] for w in workers] == ["192.0.2.21", "192.0.2.22", "192.0.2.23"]
    assert [w["system_location"] for w in workers] == [
        CONFIG + "system_location/1/",
        CONFIG + "system_location/2/",
        CONFIG + "system_location/1/",
    ]
    assert [loc["name"] for loc in api.objects("system_location")] == [
        "Datacenter A",
        "Datacenter B",
    ]
    assert api.objects("syslog_server") == [] and api.objects("ldap_role") == []
    assert api.objects("licence") == []


def test_relations_embedded_or_uris(api):
    mgr = api.ok(CONFIG + "management_vm/1/")
    assert mgr["dns_servers"] == [api.ok(CONFIG + "dns_server/1/")]
    assert mgr["ntp_servers"] == [api.ok(CONFIG + "ntp_server/1/")]
    assert mgr["syslog_servers"] == [] and mgr["static_routes"] == []
    assert mgr["tls_certificate"] == CONFIG + "tls_certificate/1/"
    location = api.ok(CONFIG + "system_location/2/")
    assert location["dns_servers"][0]["resource_uri"] == CONFIG + "dns_server/1/"
    role = api.ok(CONFIG + "role/2/")
    assert all(set(p) == {"id", "name", "codename", "resource_uri"} for p in role["permissions"])
    response = api.post(
        CONFIG + "ldap_role/",
        json={"name": "admins", "ldap_group_dn": "cn=a,dc=x", "roles": [CONFIG + "role/1/"]},
    )
    assert response.status_code == 201
    assert api.ok(CONFIG + "ldap_role/1/")["roles"] == [CONFIG + "role/1/"]
    assert api.ok(CONFIG + "worker_vm/1/")["system_location"] == CONFIG + "system_location/1/"


def test_status_resources_follow_configuration(api):
    nodes = api.objects("worker_vm", STATUS)
    assert [(n["id"], n["name"], n["system_location"]) for n in nodes] == [
        (1, "conf01", "Datacenter A"),
        (2, "conf02", "Datacenter B"),
        (3, "conf03", "Datacenter A"),
    ]
    assert all(n["sync_status"] == "SYNCED" and n["configuration_id"] == n["id"] for n in nodes)
    api.patch(CONFIG + "worker_vm/2/", json={"maintenance_mode": True, "name": "renamed"})
    node = api.ok(STATUS + "worker_vm/2/")
    assert node["maintenance_mode"] is True and node["name"] == "renamed"
    mgmt = api.objects("management_vm", STATUS)
    assert [(m["name"], m["primary"], m["version"]) for m in mgmt] == [("mgr01", True, "37.0")]
    assert api.objects("alarm", STATUS) == []
    licensing = api.ok(STATUS + "licensing/1/")
    assert licensing["port_total"] == 0 and licensing["audio_count"] == 0
    assert api.get(STATUS + "worker_vm/9/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/admin/",
        "/api/admin/configuration/",
        "/api/admin/history/v1/alarm/",
        CONFIG + "nothing/",
        CONFIG + "dns_server/99/",
        CONFIG + "dns_server/abc/",
        CONFIG + "dns_server/-1/",
        CONFIG + "dns_server/1.0/",
        CONFIG + "dns_server/1/extra/",
        CONFIG + "dns_server",
        CONFIG + "dns_server/1",
        CONFIG + "licence/nope/",
        "/api/admin//configuration/v1/dns_server/",
        STATUS + "licensing/2/",
    ],
)
def test_unknown_paths_and_ids_are_404_json(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


def test_schema_discovery(api):
    for prefix, names in ((CONFIG, CONFIG_RESOURCES), (STATUS, STATUS_RESOURCES)):
        index = api.ok(prefix)
        assert sorted(index) == sorted(names)
        for name, entry in index.items():
            assert entry == {
                "list_endpoint": f"{prefix}{name}/",
                "schema": f"{prefix}{name}/schema/",
            }
            schema = api.ok(entry["schema"])
            assert schema["default_limit"] == 20
            assert set(schema["fields"]) >= {"resource_uri"}
    schema = api.ok(CONFIG + "global/schema/")
    assert schema["allowed_detail_http_methods"] == ["get", "patch"]
    assert schema["allowed_list_http_methods"] == ["get"]
    qos = schema["fields"]["management_qos"]
    assert qos["type"] == "integer" and qos["nullable"] is True and qos["default"] == 0
    assert schema["fields"]["ocsp_state"]["valid_choices"] == ["OFF", "ON", "OVERRIDE"]
    assert schema["fields"]["deployment_uuid"]["readonly"] is True
    mgr = api.ok(CONFIG + "management_vm/schema/")["fields"]
    assert mgr["dns_servers"]["related_type"] == "to_many"
    assert mgr["tls_certificate"]["related_type"] == "to_one"
    worker = api.ok(CONFIG + "worker_vm/schema/")
    assert worker["allowed_detail_http_methods"] == ["get", "patch", "put", "delete"]
    assert worker["fields"]["name"]["unique"] is True
    assert worker["fields"]["name"]["blank"] is False
    assert api.ok(CONFIG + "licence/schema/")["allowed_detail_http_methods"] == ["get", "delete"]
