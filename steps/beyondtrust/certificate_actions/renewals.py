"""BeyondTrust certificate actions: renewing the site certificate (BT-12) and replacing it with
one from another certificate authority (BT-13).
"""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from accord.beyondtrust.client import Certificate
from accord.pki import LeafCert, fingerprint_sha256, to_pem, to_pkcs12
from steps.beyondtrust.certificate_actions.scenario import BtAct, certificate_form


def _install(bt_act: BtAct, leaf: LeafCert, label: str) -> Certificate:
    data = to_pkcs12(
        leaf.key, leaf.cert, [*leaf.chain[1:], leaf.root], passphrase=bt_act.passphrase.reveal()
    )
    bt_act.import_file(f"import the {label} certificate", data, f"{label}.p12", bt_act.passphrase)
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"
    return bt_act.row(leaf.cert)


@given(
    parsers.parse('the site certificate for "{hostname}" is the default, expiring in {days:d} days')
)
def site_certificate_default(bt_act: BtAct, hostname: str, days: int) -> None:
    leaf = bt_act.ca.issue_cert(hostname, days=days, key_type="rsa")
    row = _install(bt_act, leaf, "current")
    bt_act.scratch.client.set_default(bt_act.name, row.id)
    bt_act.old = row


@when(parsers.parse('the renewed certificate for "{hostname}", expiring in a year, is imported'))
def import_renewed(bt_act: BtAct, hostname: str) -> None:
    leaf = bt_act.ca.issue_cert(hostname, days=365, key_type="rsa")
    bt_act.leaf = leaf
    bt_act.new = _install(bt_act, leaf, "renewed")


@then("Security :: Certificates lists both, the renewed one with the later expiration")
def both_listed(bt_act: BtAct) -> None:
    assert bt_act.old is not None and bt_act.new is not None
    rows = {r.fingerprint: r for r in bt_act.rows()}
    bt_act.observe("expirations", {r.friendly_name: r.not_after.isoformat() for r in rows.values()})
    assert bt_act.old.fingerprint in rows, "the old certificate is no longer listed"
    assert bt_act.new.fingerprint in rows, "the renewed certificate is not listed"
    old, new = rows[bt_act.old.fingerprint], rows[bt_act.new.fingerprint]
    assert new.not_after > old.not_after, "the renewed certificate does not expire later"


@when(parsers.re(r"the (?:renewed|new) certificate is made the default"))
def make_new_default(bt_act: BtAct) -> None:
    assert bt_act.new is not None
    row = bt_act.row(bt_act.new.certificate)
    made = bt_act.attempt(
        "make it the default", lambda: bt_act.scratch.client.set_default(bt_act.name, row.id)
    )
    assert made is not None, f"it cannot be made the default: {bt_act.error}"


@then(
    parsers.parse(
        'clients sending "{hostname}", and clients sending no SNI, get the renewed certificate'
    )
)
def renewed_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.new is not None
    for name in (hostname, None):
        got = bt_act.served(name)
        assert got.fingerprint == bt_act.new.fingerprint, f"{name or 'no SNI'}: {got.subject}"


@when("the old certificate is removed")
def remove_old(bt_act: BtAct) -> None:
    assert bt_act.old is not None
    row = bt_act.row(bt_act.old.certificate)
    bt_act.attempt(
        "remove the old certificate", lambda: bt_act.scratch.client.delete(bt_act.name, row.id)
    )
    assert bt_act.error is None, f"the removal was refused: {bt_act.error}"


@then("Security :: Certificates no longer lists the old certificate")
def old_gone(bt_act: BtAct) -> None:
    assert bt_act.old is not None
    assert bt_act.old.fingerprint not in [r.fingerprint for r in bt_act.rows()]


@then(parsers.parse('clients sending "{hostname}" still get the renewed certificate'))
def renewed_still_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.new is not None
    got = bt_act.served(hostname)
    assert got.fingerprint == bt_act.new.fingerprint, f"served {got.subject}"


@when("the other certificate authority's root certificate is imported")
def import_other_root(bt_act: BtAct) -> None:
    assert bt_act.other_ca is not None
    root = to_pem(bt_act.other_ca.root).encode()
    bt_act.import_file("import the other root", root, "other-root.crt")
    assert bt_act.error is None, f"the import was refused: {bt_act.error}"


@then("Security :: Certificates lists it as a root: Issued To equals Issued By")
def other_root_listed(bt_act: BtAct) -> None:
    assert bt_act.other_ca is not None
    row = bt_act.row(bt_act.other_ca.root)
    assert row.issued_to == row.issued_by and row.kind == "root", f"listed as {row.kind}"


@then(parsers.parse('clients sending "{hostname}" still get the current certificate'))
def current_still_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.old is not None
    got = bt_act.served(hostname)
    assert got.fingerprint == bt_act.old.fingerprint, f"served {got.subject}"


@when(
    parsers.parse(
        'a certificate request for "{hostname}" is signed by the other certificate authority '
        "and installed with its intermediate"
    )
)
def replace_from_other(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.other_ca is not None
    form = certificate_form(friendly_name="Accord replacement", alternative_names=(hostname,))
    request = bt_act.scratch.client.create_request(bt_act.name, form)
    cert = bt_act.other_ca.sign_csr(request.request_data)
    for item, filename in ((cert, "new.crt"), (bt_act.other_ca.cert, "new-intermediate.crt")):
        bt_act.import_file(f"import {filename}", to_pem(item).encode(), filename)
        assert bt_act.error is None, f"the import was refused: {bt_act.error}"
    bt_act.new = bt_act.row(cert)


@then("the new certificate shows no warning")
def new_no_warning(bt_act: BtAct) -> None:
    assert bt_act.new is not None
    row = bt_act.row(bt_act.new.certificate)
    assert row.private_key, "it was not linked to its request's private key"
    assert not row.warnings, f"it shows {row.warnings}"


@then(
    parsers.parse(
        'clients sending "{hostname}" get the new certificate, with a chain to the other '
        "certificate authority's root"
    )
)
def new_served(bt_act: BtAct, hostname: str) -> None:
    assert bt_act.new is not None and bt_act.other_ca is not None
    got = bt_act.served(hostname)
    assert got.fingerprint == bt_act.new.fingerprint, f"served {got.subject}"
    sent = [fingerprint_sha256(c) for c in got.chain]
    assert fingerprint_sha256(bt_act.other_ca.cert) in sent, "the intermediate is not sent"
    assert got.chain[-1].issuer == bt_act.other_ca.root.subject or got.chain[-1] == (
        bt_act.other_ca.root
    ), "the chain does not lead to the other root"
