"""The `accord` command as a user meets it."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from urllib.parse import unquote, urlsplit

from accord.cli import main
from accord.http import session
from accord.site import load_site
from lab.run import _primary_seed
from lab.site import (
    LabShape,
    LabSite,
    SimSystem,
    lab_values,
    lab_vsphere,
    site_document,
    write_site,
)

LINE = re.compile(
    r"^(pexip-primary|pexip-contingency|pexip-scratch) "
    r"(https://[^:]+:[^@]+@127\.\d+\.\d+\.\d+:\d+/)$"
)


def test_accord_sim_prints_a_lab_url_per_system_that_logs_in(tmp_path):
    """Each line's URL logs in; the API is served with the Management Node's own certificate,
    checked against its FQDN (the site file's tls_server_name) and the written CA bundle."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord", "sim", "--write-site", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(6)]
        assert lines[5].startswith("accord sim: ready")
        assert lines[0].startswith("vsphere https://")  # the simulated vCenter (vcsim)
        site = load_site(tmp_path / "site.toml")
        # The simulated BeyondTrust appliances' certificate API (Accord's own: the simulator's).
        name, url = lines[4].split(" ")
        parts = urlsplit(url)
        bt = site.systems.beyondtrust
        assert (
            name == "beyondtrust"
            and bt is not None
            and bt.api_url == url.replace(f"{parts.username}:{parts.password}@", "")
        )
        answer = session().get(
            f"https://{parts.hostname}:{parts.port}/api/appliances",
            auth=(unquote(parts.username), unquote(parts.password)),
            verify=str(site.file(bt.ca_bundle)),
            timeout=10,
        )
        listed = {a["name"]: a for a in answer.json()["appliances"]}
        assert {n: (a["hostname"], a["role"]) for n, a in listed.items()} == {
            "pra1": ("pra1.lab.example", "primary"),
            "pra2": ("pra2.lab.example", "backup"),
            "atlas1": ("atlas1.lab.example", "traffic_node"),
            # of no site: where the guide's actions are performed
            "accord-scratch": ("accord-scratch.lab.example", "scratch"),
        }
        for n, appliance in bt.appliances.items():  # the site file names each TLS listener
            assert (appliance.address, appliance.port) == (
                listed[n]["listener"]["host"],
                listed[n]["listener"]["port"],
            )
        assert bt.scratch is not None and "accord-scratch" not in bt.appliances
        assert (bt.scratch.name, bt.scratch.address, bt.scratch.port) == (
            "accord-scratch",
            listed["accord-scratch"]["listener"]["host"],
            listed["accord-scratch"]["listener"]["port"],
        )
        assert site.model.beyondtrust is not None
        assert site.model.beyondtrust.trusted_ca_bundle == "lab-ca/root.pem"
        for line in lines[1:4]:
            name, url = LINE.match(line).groups()
            parts = urlsplit(url)
            system = getattr(site.systems.pexip, name.removeprefix("pexip-"))
            answer = session(system.tls_server_name).get(
                f"https://{parts.hostname}:{parts.port}/api/admin/configuration/v1/global/1/",
                auth=(unquote(parts.username), unquote(parts.password)),
                verify=str(site.file(system.ca_bundle)),
                timeout=10,
            )
            assert answer.status_code == 200
        assert (tmp_path / "site.toml").exists() and (tmp_path / "secrets.toml").exists()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_deploy_to_an_unreachable_system_is_one_clear_line(tmp_path, capsys):
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    site = write_site(
        LabSite.prepare(tmp_path, None),
        {"primary": SimSystem("https://127.0.0.1:9/", "admin", "pw", ca)},
    )
    assert main(["deploy", "--site", str(site), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("accord deploy: ") and "Traceback" not in err and "pw" not in err


def test_a_site_file_that_is_not_utf8_exits_2_in_one_line(tmp_path, capsys):
    bad = tmp_path / "site.toml"
    bad.write_bytes(b'[site]\nname = "\xff"\n')
    assert main(["deploy", "--site", str(bad), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err == f"{bad}: the site file is not UTF-8 text (byte 0xff at offset 15)\n"


def test_a_bad_site_file_exits_2_with_the_key_path(tmp_path, capsys):
    bad = tmp_path / "site.toml"
    bad.write_text('[site]\nname = "x"\nsurprise = 1\n')
    assert main(["deploy", "--site", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "site.surprise: unknown key" in err and "systems: missing" in err


def test_sim_of_a_site_whose_ldap_the_lab_cannot_serve_is_one_clear_line(
    tmp_path, capsys, monkeypatch
):
    values = lab_values()
    values["ldap"]["bind_username"] = "svc-pexip"  # Active Directory style: no DN
    monkeypatch.setattr("lab.site.lab_values", lambda shape=None: values)
    assert site_document(None)[0]["pexip"]["ldap"]["bind_username"] == "svc-pexip"
    assert main(["sim", "--write-site", str(tmp_path / "lab")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("accord sim: pexip.ldap.bind_username: ") and "Traceback" not in err


def test_sim_refuses_a_shape_it_cannot_simulate(capsys):
    assert main(["sim", "--nodes", "0"]) == 2
    assert capsys.readouterr().err == "accord sim: --nodes must be 1 to 4000, not 0\n"
    assert main(["sim", "--nodes", "3", "--locations", "4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("accord sim: --locations must be 1 to 100 and at most --nodes")


def test_a_larger_lab_names_every_node_and_spreads_its_vms():
    shape = LabShape(nodes=250, locations=25)
    values = lab_values(shape)
    assert len(values["ipv6"]["nodes"]) == 251 and "conf250" in values["ipv6"]["nodes"]
    vms = lab_vsphere(shape)["vms"]["primary"]
    assert len(vms) == 251 and vms[-1] == "pexip-conf250"
    seed = _primary_seed(shape)
    assert seed.conferencing_nodes == 250 and seed.locations == 25
    assert seed.network.num_addresses >= 21 + 250 + 1
    assert ipaddress.ip_address(seed.address(21 + 249)) in seed.network
