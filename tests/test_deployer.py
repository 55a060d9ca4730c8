"""The deployer: a field-level plan from the factory state, applied, then an empty plan."""

from __future__ import annotations

from accord.cli import main
from accord.deployer import deploy
from accord.deployer import pexip as planner
from accord.systems import pexip_client


def test_plan_apply_and_a_second_plan_is_empty(lab, deployed_snapshot, capsys):
    lab.factory_reset()
    try:
        plans = deploy(lab.site)
        assert all(not p.empty for p in plans)
        out = capsys.readouterr().out
        assert "~ update global settings" in out and "enable_chat: True -> False" in out
        assert '+ create role "Auditor"' in out
        assert "snmp_authentication_password: secret not set -> the site's secret" in out
        again = deploy(lab.site)
        assert all(p.empty for p in again), [p.render() for p in again]
    finally:
        lab.restore(deployed_snapshot)


def test_dry_run_writes_nothing(lab, deployed_snapshot, capsys):
    lab.factory_reset()
    try:
        assert main(["deploy", "--site", str(lab.site_file), "--dry-run"]) == 0
        assert "change(s)" in capsys.readouterr().out
        for control in lab.control.values():
            assert control.requests()["writes"] == 0
    finally:
        lab.restore(deployed_snapshot)


def test_plan_output_never_shows_a_secret(lab, deployed_snapshot):
    lab.factory_reset()
    try:
        client = pexip_client(lab.site, "primary")
        rendered = planner.plan(client, lab.site, "pexip-primary").render()
        secrets = [
            lab.site.resolve(lab.site.pexip.snmp.privacy_password).reveal(),
            lab.site.resolve(lab.site.pexip.ldap.bind_password).reveal(),
        ]
        assert not [s for s in secrets if s in rendered]
    finally:
        lab.restore(deployed_snapshot)


def test_contingency_keeps_local_login_and_loses_its_licences(lab, deployed_snapshot):
    lab.factory_reset()
    try:
        lab.admin["contingency"].create("licence", {"entitlement_id": "E-1"})
        deploy(lab.site, out=lambda _line: None)
        auth = lab.admin["contingency"].get_one("authentication")
        assert (auth["source"], auth["client_certificate"]) == ("LDAP+LOCAL", "NO")
        assert lab.admin["contingency"].list("licence") == []
        assert lab.admin["primary"].get_one("authentication")["source"] == "LDAP"
    finally:
        lab.restore(deployed_snapshot)
