"""BeyondTrust certificate actions: a certificate's chain, the warnings it shows until its
intermediate and root are imported, and how each is told apart (BT-05).
"""

from __future__ import annotations

from pytest_bdd import then, when

from accord.pki import to_pem
from steps.beyondtrust.certificate_actions.scenario import BtAct


@when("only the server certificate is imported")
def import_server_only(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    bt_act.import_file("import the server certificate", bt_act.leaf.cert_pem.encode(), "server.crt")


@when("the intermediate certificate is imported")
def import_intermediate(bt_act: BtAct) -> None:
    bt_act.import_file("import the intermediate", bt_act.ca.cert_pem.encode(), "intermediate.crt")


@when("the root certificate is imported")
def import_root(bt_act: BtAct) -> None:
    bt_act.import_file("import the root", to_pem(bt_act.ca.root).encode(), "root.crt")


@then("it shows a warning beneath its name")
def shows_warning(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    row = bt_act.row(bt_act.leaf.cert)
    bt_act.observe("warnings", row.warnings)
    assert row.warnings, "it shows no warning"


@then("it shows no warning")
def shows_no_warning(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    row = bt_act.row(bt_act.leaf.cert)
    assert not row.warnings, f"it shows {row.warnings}"


@then("the intermediate certificate is told apart: Issued To differs from Issued By")
def intermediate_told_apart(bt_act: BtAct) -> None:
    row = bt_act.row(bt_act.ca.cert)
    assert row.issued_to != row.issued_by, f"Issued To and Issued By are both {row.issued_to!r}"
    assert row.kind == "intermediate", f"it is listed as {row.kind}"


@then("the root certificate is told apart: Issued To equals Issued By")
def root_told_apart(bt_act: BtAct) -> None:
    row = bt_act.row(bt_act.ca.root)
    assert row.issued_to == row.issued_by, f"Issued To {row.issued_to!r}, By {row.issued_by!r}"
    assert row.kind == "root", f"it is listed as {row.kind}"


@then("the server certificate is told apart from both")
def server_told_apart(bt_act: BtAct) -> None:
    assert bt_act.leaf is not None
    row = bt_act.row(bt_act.leaf.cert)
    assert row.kind == "server", f"it is listed as {row.kind}"
