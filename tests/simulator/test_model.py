"""The in-process side: seeds, alarms raised by simulator code, the model's Python API."""

from __future__ import annotations

import pytest

from simulator.pexip import PexipModel, Seed
from simulator.pexip.errors import BadRequest, MethodNotAllowed, NotFound, ValidationError
from simulator.pexip.resources import config, status
from simulator.pexip.seed import location_name
from tests.simulator.conftest import CONFIG, STATUS


def test_seed_counts_and_addresses():
    model = PexipModel(Seed(domain="lab.example", conferencing_nodes=5, locations=3, licences=2))
    workers = model.list_objects(config("worker_vm"))
    assert [w["name"] for w in workers] == [f"conf0{i}" for i in range(1, 6)]
    assert [w["system_location"][-2] for w in workers] == ["1", "2", "3", "1", "2"]
    assert {w["domain"] for w in workers} == {"lab.example"}
    assert [loc["name"] for loc in model.list_objects(config("system_location"))] == [
        "Datacenter A",
        "Datacenter B",
        "Datacenter C",
    ]
    licences = model.list_objects(config("licence"))
    assert len(licences) == 2 and all(lic["status"] == "ACTIVATED" for lic in licences)
    licensing = model.get_object(status("licensing"), "1")
    assert licensing["port_total"] == sum(lic["concurrent"] for lic in licences)
    again = PexipModel(Seed(domain="lab.example", conferencing_nodes=5, locations=3, licences=2))
    assert (
        again.snapshot()["tables"]["configuration/global"]
        == (model.snapshot()["tables"]["configuration/global"])
    )
    assert location_name(26) == "Datacenter 27"


def test_empty_deployment_seed():
    model = PexipModel(Seed(conferencing_nodes=0, locations=0))
    assert model.list_objects(config("worker_vm")) == []
    assert model.list_objects(status("worker_vm")) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"domain": ""},
        {"address_prefix": "192.0.2"},
        {"address_prefix": "300.0.0."},
        {"conferencing_nodes": -1},
        {"conferencing_nodes": 2, "locations": 0},
        {"licences": True},
    ],
)
def test_bad_seeds_are_refused(kwargs):
    with pytest.raises(ValueError):
        Seed(**kwargs)


@pytest.mark.parametrize("seed", [Seed(), Seed(licences=3, conferencing_nodes=1, locations=1)])
def test_fresh_snapshots_restore(seed):
    model = PexipModel(seed)
    snapshot = model.snapshot()
    model.restore(snapshot)
    assert model.snapshot() == snapshot


def test_model_python_api_raises_typed_errors():
    model = PexipModel()
    dns = config("dns_server")
    uri = model.create(dns, {"address": "192.0.2.60"})
    assert uri == CONFIG + "dns_server/2/"
    model.update(dns, "2", {"description": "second"}, partial=True)
    assert model.get_object(dns, "2")["description"] == "second"
    with pytest.raises(ValidationError) as caught:
        model.create(dns, {"address": "x"})
    assert caught.value.body() == {
        "dns_server": {"address": ["Enter a valid IPv4 or IPv6 address."]}
    }
    assert caught.value.status == 400
    with pytest.raises(NotFound):
        model.get_object(dns, "7")
    with pytest.raises(MethodNotAllowed) as refused:
        model.update(config("global"), "1", {}, partial=False)
    assert refused.value.headers() == {"Allow": "GET, PATCH"}
    with pytest.raises(BadRequest):
        model.create(dns, ["not", "an", "object"])
    with pytest.raises(BadRequest):
        model.restore({"format": "nope"})
    model.delete(dns, "2")
    with pytest.raises(NotFound):
        model.delete(dns, "2")


def test_alarms_raised_in_process_show_in_the_status_api(api):
    model = api.sim.model
    first = model.raise_alarm(
        "sync_failure",
        details="No TLS certificate",
        instance="conf01",
        node="192.0.2.21",
    )
    same = model.raise_alarm(
        "sync_failure", details="still none", instance="conf01", node="192.0.2.21"
    )
    other = model.raise_alarm("disk_space_low", level="warning", node="192.0.2.10")
    assert first == same != other
    alarms = api.objects("alarm", STATUS)
    assert [(a["name"], a["level"], a["details"]) for a in alarms] == [
        ("sync_failure", "error", "still none"),
        ("disk_space_low", "warning", ""),
    ]
    alarm = alarms[0]
    assert set(alarm) == {
        "id",
        "identifier",
        "level",
        "name",
        "details",
        "instance",
        "node",
        "acknowledged",
        "time_raised",
        "resource_uri",
    }
    assert api.ok(alarm["resource_uri"]) == alarm
    warnings = api.ok(STATUS + "alarm/?level=warning")["objects"]
    assert [a["name"] for a in warnings] == ["disk_space_low"]
    assert api.patch(alarm["resource_uri"], json={"acknowledged": True}).status_code == 405
    snapshot = api.state()
    assert model.clear_alarm("sync_failure", node="192.0.2.99") == 0
    assert model.clear_alarm("sync_failure") == 1
    assert [a["name"] for a in api.objects("alarm", STATUS)] == ["disk_space_low"]
    api.put("/_sim/state", json=snapshot)
    assert len(api.objects("alarm", STATUS)) == 2
    api.post("/_sim/reset")
    assert api.objects("alarm", STATUS) == []


def test_certificate_alarm_names_belong_to_the_derivation(api):
    model = api.sim.model
    model.raise_alarm("tls_certificate_missing", instance="conf01", node="192.0.2.21")
    # conf01 has its certificate: the derived alarms drop what the state does not call for.
    assert api.objects("alarm", STATUS) == []
