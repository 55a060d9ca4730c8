"""The deployer: a field-level plan from the factory state, applied, then an empty plan."""

from __future__ import annotations

import datetime as dt
import secrets
import tomllib

import pytest
import tomli_w

from accord.beyondtrust.probes import chain_complete, served
from accord.cli import main
from accord.deployer import beyondtrust, deploy, deploy_beyondtrust
from accord.deployer import pexip as planner
from accord.labca import LabCA
from accord.pexip.certificates import PlatformCertificates
from accord.pexip.client import PexipApiError, PexipClient
from accord.pki import CA, fingerprint_sha256, load_csr, to_pem
from accord.site import SiteError, load_site
from accord.systems import beyondtrust_appliances, pexip_client


def test_plan_apply_and_a_second_plan_is_empty(lab, deployed_snapshot, capsys):
    lab.factory_reset()
    try:
        plans = deploy(lab.site)
        # The Management Nodes are factory-fresh again; the VMs in vCenter were deployed once.
        assert all(not p.empty for p in plans if isinstance(p, planner.Plan))
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


def _exchange_site(lab, folder):
    """The lab site, but with the CSRs exchanged through ``folder`` instead of the lab CA."""
    document = tomllib.loads(lab.site_file.read_text())
    certificates = document["pexip"]["certificates"]
    del certificates["lab_ca"]
    certificates["exchange_dir"] = str(folder)
    # Pexip only here: the BeyondTrust exchange has its own test below.
    del document["systems"]["beyondtrust"], document["beyondtrust"]
    path = lab.site_file.with_name("exchange-site.toml")
    path.write_text(tomli_w.dumps(document))
    return load_site(path)


def test_pki_bootstrap_through_an_exchange_folder(lab, deployed_snapshot, tmp_path):
    """Live CAs are offline: the deployer writes <fqdn>.csr, waits, and completes the pending
    CSR once <fqdn>.pem is there; the key never leaves the Management Node."""
    lab.factory_reset()
    folder = tmp_path / "pki"
    site = _exchange_site(lab, folder)
    try:
        lines: list[str] = []
        deploy(site, out=lines.append)
        waiting = [line for line in lines if "waiting for the CA to sign" in line]
        requests = sorted(folder.glob("*.csr"))
        assert len(waiting) == len(requests) == 8  # 4 nodes in each of the two deployments
        assert not list(folder.glob("*key*")) and "PRIVATE KEY" not in "".join(
            p.read_text() for p in requests
        )
        ca = LabCA.load(lab.site.file(lab.site.pexip.certificates.lab_ca))
        for request in requests:
            request.with_suffix(".pem").write_text(ca.sign(request.read_text()))
        lines.clear()
        deploy(site, out=lines.append)
        assert not [line for line in lines if "waiting" in line], lines
        primary = PlatformCertificates(lab.admin["primary"])
        for node in primary.nodes:
            assert (
                node.certificate is not None
                and node.certificate.leaf.issuer == ca.issuer.cert.subject
            )
        again = deploy(site, out=lambda _line: None)
        assert all(p.empty for p in again), [p.render() for p in again]
    finally:
        lab.restore(deployed_snapshot)


def test_a_certificate_that_expires_soon_is_renewed_in_place(deployed):
    """A certificate the site CA issued that only expires within renew_within_days is renewed
    from itself: same key, same object, so its node keeps it (CSR-09)."""
    admin = deployed.admin["primary"]
    ca = LabCA.load(deployed.site.file(deployed.site.pexip.certificates.lab_ca))
    node = next(n for n in PlatformCertificates(admin).nodes if n.name == "conf01")
    assert node.certificate is not None
    now = dt.datetime.now(dt.UTC)
    request = admin.get(
        admin.create("certificate_signing_request", {"tls_certificate": node.certificate.uri})
    )
    soon = ca.issuer.sign_csr(
        request["csr"],
        not_before=now - dt.timedelta(days=300),
        not_after=now + dt.timedelta(days=20),
    )
    admin.update(request["resource_uri"], {"certificate": to_pem(soon, ca.issuer.cert)})
    plans = [
        p for p in deploy(deployed.site, out=lambda _line: None) if isinstance(p, planner.Plan)
    ]
    renewed = [c for c in plans[0].certificates if c.action == "renew"]
    assert [c.node.name for c in renewed if c.node] == ["conf01"]
    after = next(n for n in PlatformCertificates(admin).nodes if n.name == "conf01")
    assert after.certificate is not None and after.certificate.uri == node.certificate.uri
    assert after.certificate.leaf.public_key() == node.certificate.leaf.public_key()
    assert after.certificate.leaf.not_valid_after_utc > now + dt.timedelta(days=300)


def test_a_vsphere_plan_over_the_datastore_capacity_is_refused(lab, capsys):
    """Four Pexip VMs with 1000 IOPS per disk on one host cannot fit a 3000 IOPS datastore."""
    document = tomllib.loads(lab.site_file.read_text())
    document["vsphere"]["datastore_iops_capacity"] = 3000
    path = lab.site_file.with_name("small-datastore.toml")
    path.write_text(tomli_w.dumps(document))
    assert main(["deploy", "--site", str(path), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "exceed the datastore capacity (3000)" in err and "Traceback" not in err


def test_the_vsphere_plan_reports_vlans_and_never_changes_them(lab, deployed_snapshot, capsys):
    assert main(["deploy", "--site", str(lab.site_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "vsphere: no changes" in out
    assert "DC0_H0: Pexip VMs VLAN 100 (VLANs are the network team's" in out


def test_authentication_follows_the_guides_order_and_ends_certificate_only(lab, deployed_snapshot):
    lab.factory_reset()
    try:
        lines: list[str] = []
        deploy(lab.site, out=lines.append)
        steps = [line for line in lines if line.startswith("pexip-primary: administrator auth")]
        assert [s.split(": ", 2)[2].split(" (")[0] for s in steps] == [
            "LDAP settings",
            "client certificate CN",
            "source LDAP database only",
        ]
        # Only the client certificate opens the node now: the deployer's password alone fails.
        system = lab.site.systems.pexip.primary
        password_only = PexipClient(
            system.url,
            system.username,
            lab.site.resolve(system.password),
            ca_bundle=lab.site.file(system.ca_bundle),
            server_name=system.tls_server_name,
        )
        with pytest.raises(PexipApiError, match="403"):
            password_only.get_one("authentication")
        assert lab.admin["primary"].get_one("authentication")["source"] == "LDAP"
    finally:
        lab.restore(deployed_snapshot)


def test_without_a_client_certificate_the_deployer_will_not_lock_itself_out(
    lab, deployed_snapshot, tmp_path
):
    document = tomllib.loads(lab.site_file.read_text())
    del document["systems"]["pexip"]["primary"]["client_certificates"]
    path = lab.site_file.parent / "no-client-certificate.toml"
    path.write_text(tomli_w.dumps(document))
    lab.factory_reset()
    try:
        with pytest.raises(planner.LockoutRefused, match="client_certificates.administrator"):
            deploy(load_site(path), out=lambda _line: None)
        auth = lab.admin["primary"].get_one("authentication")  # still reachable
        assert (auth["source"], auth["client_certificate"]) == ("LDAP+LOCAL", "NO")
    finally:
        lab.restore(deployed_snapshot)


def _beyondtrust_served(lab):
    """What every appliance serves for the site hostname (probes, as the steps see it)."""
    site_hostname = lab.site.model.beyondtrust.site_hostname
    return {
        a.name: served(a.endpoint, site_hostname, None) for a in beyondtrust_appliances(lab.site)
    }


def test_beyondtrust_appliances_get_the_ca_signed_certificate_once(
    lab, deployed_snapshot, monkeypatch
):
    """From the factory state deploy() issues the certificate on the primary with the lab CA
    and copies it to the backup and the traffic node; a second deploy plans nothing; each run
    that copies it protects the PKCS#12 file with a new passphrase, never shown."""
    made: list[str] = []
    token = secrets.token_urlsafe

    def passphrase(size: int) -> str:
        made.append(token(size))
        return made[-1]

    monkeypatch.setattr("accord.deployer.secrets.token_urlsafe", passphrase)
    ca = LabCA.load(lab.site.file(lab.site.pexip.certificates.lab_ca))
    try:
        for _ in range(2):
            lab.beyondtrust_control.reset()
            lines: list[str] = []
            plans = deploy(lab.site, out=lines.append)
            bt = [p for p in plans if isinstance(p, beyondtrust.Plan)]
            assert len(bt) == 1 and len(bt[0].steps) == 3, [p.render() for p in bt]
            assert "beyondtrust: issued and made default on pra1" in lines
            found = _beyondtrust_served(lab)
            assert len({s.fingerprint for s in found.values()}) == 1
            for result in found.values():
                assert result.leaf.issuer == ca.issuer.cert.subject
                assert chain_complete(result, [ca.issuer.root])
            assert not [line for line in lines if made[-1] in line]
        assert len(made) == 2 and made[0] != made[1]
        again = deploy(lab.site, out=lines.append)
        assert all(p.empty for p in again), [p.render() for p in again]
        assert lines[-1].startswith("beyondtrust access.lab.example: no changes")
        assert len(made) == 2  # nothing to copy: no passphrase made
    finally:
        lab.restore(deployed_snapshot)


def test_a_beyondtrust_dry_run_writes_nothing(lab, deployed_snapshot):
    lab.beyondtrust_control.reset()
    try:
        before = lab.beyondtrust_state()
        lines: list[str] = []
        found = deploy_beyondtrust(lab.site, dry_run=True, out=lines.append)
        assert found is not None and not found.empty and "3 change(s)" in lines[0]
        assert lab.beyondtrust_state() == before
    finally:
        lab.restore(deployed_snapshot)


def test_real_beyondtrust_appliances_get_the_guides_steps_and_nothing_is_written(deployed):
    """A real appliance has no certificate API: the deployer prints the guide's steps with
    the site's values, for a person to perform; it reaches no appliance."""
    document = tomllib.loads(deployed.site_file.read_text())
    for key in ("api_url", "ca_bundle", "username", "password"):
        del document["systems"]["beyondtrust"][key]
    document["systems"]["beyondtrust"].pop("scratch", None)  # simulated only: needs api_url
    path = deployed.site_file.with_name("real-beyondtrust.toml")
    path.write_text(tomli_w.dumps(document))
    before = deployed.beyondtrust_state()
    lines: list[str] = []
    assert deploy_beyondtrust(load_site(path), out=lines.append) is None
    text = "\n".join(lines)
    assert "a real appliance has no certificate API" in text
    assert "on pra1 (pra1.lab.example): Create a certificate request: key RSA 2048" in text
    assert "C=US, ST=Mississippi, L=Jackson, O=Accord Lab, OU=Remote Access" in text
    assert "access.lab.example, pra1.lab.example, pra2.lab.example, atlas1.lab.example" in text
    assert "Import it on pra2 (pra2.lab.example), atlas1 (atlas1.lab.example)" in text
    assert deployed.beyondtrust_state() == before


def _beyondtrust_exchange_site(lab, folder, roots):
    """The lab site with the BeyondTrust request signed through ``folder`` (no lab CA) and
    ``roots`` as ``[beyondtrust] trusted_ca_bundle``; ``folder=None``: neither is named."""
    document = tomllib.loads(lab.site_file.read_text())
    certificates = document["pexip"]["certificates"]
    del certificates["lab_ca"]
    if folder is not None:
        certificates["exchange_dir"] = str(folder)
    document["beyondtrust"]["trusted_ca_bundle"] = str(roots)
    path = lab.site_file.with_name("bt-exchange-site.toml")
    path.write_text(tomli_w.dumps(document))
    return load_site(path)


def test_beyondtrust_certificate_through_an_exchange_folder(lab, deployed_snapshot, tmp_path):
    """Without a lab CA the primary's request data goes to <site_hostname>.csr and the run
    stops, the request pending and no default changed; once the CA's <site_hostname>.pem is
    there the next run completes that request (the root from [beyondtrust] trusted_ca_bundle),
    makes it the default and copies it; a third run does nothing."""
    root = CA.new("Exchange Root CA", key_type="rsa")
    issuing = root.issue_intermediate("Exchange Issuing CA", key_type="rsa")
    unrelated = CA.new("Unrelated Root CA", key_type="rsa")
    roots = tmp_path / "bt-roots.pem"
    roots.write_text(unrelated.cert_pem + root.cert_pem)  # every root the clients trust
    folder = tmp_path / "pki"
    site = _beyondtrust_exchange_site(lab, folder, roots)
    site_hostname = site.model.beyondtrust.site_hostname
    bt = lab.beyondtrust
    lab.beyondtrust_control.reset()
    try:
        factory = lab.beyondtrust_state()
        lines: list[str] = []
        first = deploy_beyondtrust(site, out=lines.append)
        assert first is not None and [s.action for s in first.steps][0] == "issue"
        request_file, answer_file = folder / f"{site_hostname}.csr", folder / f"{site_hostname}.pem"
        waiting = [line for line in lines if line.startswith("beyondtrust: ")]
        assert waiting == [
            f"beyondtrust: request {site_hostname!r} pending on pra1: waiting for the CA to "
            f"sign {request_file}: put its certificate and chain (PEM) in {answer_file}, then "
            "run accord deploy again"
        ]
        (pending,) = bt.requests("pra1")
        assert request_file.read_text() == pending.request_data
        assert "PRIVATE KEY" not in request_file.read_text() and not answer_file.exists()
        assert [p.name for p in folder.iterdir()] == [request_file.name]
        after_first = lab.beyondtrust_state()
        assert after_first == {
            name: (certs, 1 if name == "pra1" else count)
            for name, (certs, count) in factory.items()
        }  # only the pending request: no certificate imported, no default changed

        # The CA answers: the certificate and its intermediate, without the root.
        signed = issuing.sign_csr(request_file.read_text(), days=365)
        answer_file.write_text(to_pem(signed, issuing.cert))
        lines.clear()
        second = deploy_beyondtrust(site, out=lines.append)
        assert second is not None and [s.action for s in second.steps] == [
            "issue",
            "replicate",
            "replicate",
        ]
        assert "beyondtrust: issued and made default on pra1" in lines
        assert not [line for line in lines if "waiting" in line], lines
        assert bt.requests("pra1") == []
        assert bt.default("pra1").fingerprint == fingerprint_sha256(signed)
        assert load_csr(pending.request_data).public_key() == signed.public_key()
        held = {c.fingerprint for c in bt.certificates("pra1")}
        assert fingerprint_sha256(root.cert) in held  # the root came from the trusted bundle
        assert fingerprint_sha256(unrelated.cert) not in held  # the other roots did not
        for result in _beyondtrust_served(lab).values():
            assert result.fingerprint == fingerprint_sha256(signed)
            assert chain_complete(result, [root.cert])

        lines.clear()
        third = deploy_beyondtrust(site, out=lines.append)
        assert third is not None and third.empty
        assert lines == [third.render()] and "no changes" in lines[0]
    finally:
        lab.restore(deployed_snapshot)


def test_beyondtrust_without_a_lab_ca_or_an_exchange_folder_is_refused(
    lab, deployed_snapshot, tmp_path
):
    site = _beyondtrust_exchange_site(lab, None, tmp_path / "unused.pem")
    lab.beyondtrust_control.reset()
    try:
        before = lab.beyondtrust_state()
        with pytest.raises(SiteError) as refused:
            deploy_beyondtrust(site, out=lambda _line: None)
        message = str(refused.value)
        assert "pexip.certificates.lab_ca" in message
        assert "pexip.certificates.exchange_dir" in message
        assert lab.beyondtrust_state() == before
    finally:
        lab.restore(deployed_snapshot)
