"""Verification is read-only, reads with list calls, and never writes a secret anywhere."""

from __future__ import annotations

import hashlib
import os
import re
import textwrap
import tomllib
from pathlib import Path

import tomli_w

from accord.deployer import deploy
from tests.features_run import attested_scenarios, run_features

SINGLETONS = re.compile(r"/api/admin/configuration/v1/(global|authentication)/1/$")
ACTION_RESOURCES = {
    "tls_certificate",
    "ca_certificate",
    "certificate_signing_request",
    "worker_vm",  # assigning certificates; adding one (CONF-01)
    "platform",  # command/v1/platform/certificates_import/
    # SECW-08: the deployer brings the scratch node to the site's baseline first.
    "global",
    "authentication",
    "management_vm",
    "system_location",
    "dns_server",
    "ntp_server",
    "syslog_server",
    "role",
    "ldap_role",
    "licence",
}
LISTS = re.compile(r"/api/admin/(configuration|status)/v1/\w+/$")
# Logging in to the Administrator interface and out again (MGMT-03, AUTH-05, AUTH-06) opens and
# ends a session; it changes no configuration.
SESSIONS = re.compile(r"^/admin/(login|logout)/$")


def test_verification_issues_zero_writes_and_only_list_or_singleton_reads(deployed, tmp_path):
    run = run_features(tmp_path, "--target", "live", "--site", str(deployed.site_file))
    assert run.returncode == 0, run.output
    for name in ("primary", "contingency"):  # the scratch node is where actions are performed
        log = deployed.control[name].requests()
        assert log["total"] > 0
        for request in log["requests"]:
            path = request["path"]
            if path.startswith("/admin/"):
                assert request["method"] == "GET" or SESSIONS.search(path), request
                continue
            assert request["method"] == "GET", request
            assert LISTS.search(path) or SINGLETONS.search(path), request
    scratch = deployed.control["scratch"].requests()["requests"]
    # The session-limit logins (SECW-08) are the interface's, not the configuration's.
    api = [r for r in scratch if r["path"].startswith("/api/")]
    assert all(SESSIONS.search(r["path"]) for r in scratch if r not in api)
    written = {r["path"].split("/")[5] for r in api if r["method"] != "GET"}
    assert written <= ACTION_RESOURCES, written


def test_more_nodes_and_locations_cost_no_more_requests(deployed, tmp_path):
    run_features(tmp_path / "before", "--target", "live", "--site", str(deployed.site_file))
    before = deployed.control["primary"].requests()["total"]
    admin = deployed.admin["primary"]
    for index in range(5):
        location = admin.create("system_location", {"name": f"Extra {index}"})
        for node in range(4):
            number = 100 + index * 4 + node
            admin.create(
                "worker_vm",
                {
                    "name": f"extra{number}",
                    "hostname": f"pxextra{number}",
                    "domain": "pexip.example.com",
                    "address": f"192.0.2.{number}",
                    "netmask": "255.255.255.0",
                    "gateway": "192.0.2.1",
                    "system_location": location,
                },
            )
    deploy(deployed.site, out=lambda _line: None)
    # The site declares what the deployment now has (`accord.inventory`).
    document = tomllib.loads(deployed.site_file.read_text())
    primary = document["systems"]["pexip"]["primary"]
    primary["nodes"] += [f"extra{100 + n}" for n in range(20)]
    primary["locations"] += [f"Extra {index}" for index in range(5)]
    grown = deployed.site_file.with_name("grown.toml")
    grown.write_text(tomli_w.dumps(document))
    deployed.control["primary"].clear_requests()
    run = run_features(tmp_path / "after", "--target", "live", "--site", str(grown))
    # The extra nodes have no IPv6 address in the site, so IPV6-01 fails; all others pass.
    assert run.failed() == run.tagged("IPV6-01"), run.output
    assert deployed.control["primary"].requests()["total"] == before


CANARIES = {
    "pexip_primary": "CANARY-admin-primary-7f3a",
    "pexip_contingency": "CANARY-admin-contingency-91c2",
    "snmp_auth": "CANARY-snmp-auth-5d1e",
    "snmp_priv": "CANARY-snmp-priv-c0b4",
    "ldap_bind": "CANARY-ldap-bind-88e0",
    "ntp1": "CANARY-ntp-key-one-1a2b",
    "ntp2": "CANARY-ntp-key-two-3c4d",
    "vsphere": "CANARY-vcenter-6e9f",
    "beyondtrust": "CANARY-beyondtrust-2d7b",
}

CANARY_SITE = """

[site]
name = "canary"
secrets_file = "secrets.toml"

[systems.pexip.primary]
url = "https://127.0.0.1:1/"
password = { secret = "pexip_primary" }

[systems.pexip.contingency]
url = "https://127.0.0.1:2/"
password = { secret = "pexip_contingency" }

[systems.vsphere]
url = "https://127.0.0.1:3/sdk"
username = "canary@vsphere.local"
password = { secret = "vsphere" }

[systems.beyondtrust]
api_url = "https://127.0.0.1:4/"
password = { secret = "beyondtrust" }

[systems.beyondtrust.appliances]
canary1 = { hostname = "pra1.canary.example", role = "primary" }
canary2 = { hostname = "pra2.canary.example", role = "backup" }
canary3 = { hostname = "atlas1.canary.example", role = "traffic_node" }

[beyondtrust]
site_hostname = "access.canary.example"
trusted_ca_bundle = "canary-roots.pem"
country = "GB"
organization = "Canary"

[vsphere]
vms = { primary = ["canary-mgr", "canary-conf"], contingency = ["canary-dr"] }
disk_iops_limit = 500
datastore_iops_capacity = 10000
reserved_vlans = [1]


[pexip.global]
ocsp_responder_url = "http://ocsp.canary.example/"
login_banner = "Canary site."

[pexip.network]
dns_servers = ["192.0.2.201", "192.0.2.202"]
ntp_servers = [
  { address = "ntp1.canary.example", key_id = 7, key = { secret = "ntp1" } },
  { address = "ntp2.canary.example", key_id = 8, key = { secret = "ntp2" } },
]
syslog_servers = [{ address = "syslog.canary.example" }]

[pexip.snmp]
username = "canary-nms"
authentication_password = { secret = "snmp_auth" }
privacy_password = { secret = "snmp_priv" }
community = "canary-comm"

[pexip.ldap]
server = "ldap.canary.example"
base_dn = "dc=canary,dc=example"
bind_username = "cn=svc-canary,ou=services,dc=canary,dc=example"
bind_password = { secret = "ldap_bind" }
role_mappings = [
  { name = "a", group_dn = "cn=a,ou=groups,dc=canary,dc=example", roles = ["Auditor"] },
  { name = "b", group_dn = "cn=b,ou=groups,dc=canary,dc=example", roles = ["Read-only"] },
  { name = "c", group_dn = "cn=c,ou=groups,dc=canary,dc=example", roles = ["Read-write"] },
]

[[attestations]]
id = "HOST-03"
statement = "Canary STIG."
by = "canary"
date = 2026-01-01
expires = 2099-01-01

[[attestations]]
id = "BIOS-02"
statement = "Canary setup."
by = "canary"
date = 2026-01-01
expires = 2099-01-01

[[attestations]]
id = "BIOS-03"
statement = "Canary BIOS."
by = "canary"
date = 2026-01-01
expires = 2099-01-01

[[attestations]]
id = "BT-13"
statement = "Canary client software update."
by = "canary"
date = 2026-01-01
expires = 2099-01-01
""" + "".join(
    f"""
[[attestations]]
id = "{requirement}"
statement = "Canary security wizard answer."
by = "canary"
date = 2026-01-01
expires = 2099-01-01
"""
    for requirement in ("SECW-02", "SECW-03", "SECW-05", "SECW-06", "SECW-11", "CONF-01")
)


def write_canary_site(folder: Path, text: str | None = None) -> Path:
    """A site file in ``folder`` (the canary site, or ``text``) with the canaries as its
    secrets file beside it (mode 0600); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    site = folder / "site.toml"
    site.write_text(textwrap.dedent(CANARY_SITE) if text is None else text)
    secrets = folder / "secrets.toml"
    secrets.write_text("".join(f'{k} = "{v}"\n' for k, v in CANARIES.items()))
    secrets.chmod(0o600)
    return site


def test_no_seeded_secret_appears_in_any_file_the_run_wrote(tmp_path):
    site = write_canary_site(tmp_path / "site")
    reports = tmp_path / "reports"
    run = run_features(reports, "--target", "sim", "--site", str(site))
    assert run.returncode == 0, run.output
    assert not run.failed()  # IPv6 skipped: the site has none; attested ones are skipped too
    skipped = {s.name for s in run.scenarios if s.status == "skipped"}
    assert run.tagged("IPV6-01") <= skipped <= run.tagged("IPV6-01") | attested_scenarios()
    needles = set(CANARIES.values())
    needles |= {hashlib.sha1(v.encode()).hexdigest() for v in CANARIES.values()}
    written = [p for p in reports.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"cucumber.json", "junit.xml"}
    for path in written:
        content = path.read_text(errors="replace")
        leaked = [n for n in needles if n in content]
        assert not leaked, f"{path} holds {leaked}"
    assert not [n for n in needles if n in run.output]
    assert "canary-comm" not in (reports / "latest" / "junit.xml").read_text()
    assert os.listdir(reports)


def test_a_scenario_that_does_not_apply_is_reported_skipped_never_passed(deployed, tmp_path):
    text = deployed.site_file.read_text()
    assert "[pexip.ipv6]\nenabled = true" in text
    no_ipv6 = deployed.site_file.with_name("no-ipv6.toml")
    no_ipv6.write_text(
        text.replace("[pexip.ipv6]\nenabled = true", "[pexip.ipv6]\nenabled = false")
    )
    run = run_features(tmp_path, "--target", "live", "--site", str(no_ipv6))
    assert run.returncode == 0, run.output
    statuses = {s.status for s in run.scenarios if "IPV6-01" in s.tags}
    assert statuses == {"skipped"}
    junit = (run.reports / "junit.xml").read_text()
    assert "<skipped" in junit and "does not use IPv6" in junit
