"""BeyondTrust certificate actions: the factory "BeyondTrust Appliance" certificate (BT-01)."""

from __future__ import annotations

from pytest_bdd import given, then, when

from accord.beyondtrust.client import Certificate
from steps.beyondtrust.certificate_actions.scenario import BtAct, certificate_form


def _factory(bt_act: BtAct) -> Certificate | None:
    return next((r for r in bt_act.rows() if r.factory), None)


@then('Security :: Certificates lists the "BeyondTrust Appliance" certificate with a warning')
def factory_listed(bt_act: BtAct) -> None:
    row = _factory(bt_act)
    assert row is not None, "no factory certificate is listed"
    bt_act.observe(
        "factory certificate", {"friendly_name": row.friendly_name, "warnings": row.warnings}
    )
    assert row.friendly_name == "BeyondTrust Appliance", f"it is named {row.friendly_name!r}"
    assert row.warnings, "it shows no warning"


@given("a self-signed certificate is the default")
def self_signed_default(bt_act: BtAct) -> None:
    client = bt_act.scratch.client
    row = client.create_self_signed(bt_act.name, certificate_form())
    client.set_default(bt_act.name, row.id)


@when('the "BeyondTrust Appliance" certificate is deleted')
def delete_factory(bt_act: BtAct) -> None:
    row = _factory(bt_act)
    assert row is not None, "no factory certificate is listed"
    bt_act.attempt(
        "delete the factory certificate", lambda: bt_act.scratch.client.delete(bt_act.name, row.id)
    )


@then('Security :: Certificates still lists the "BeyondTrust Appliance" certificate')
def factory_still_listed(bt_act: BtAct) -> None:
    assert _factory(bt_act) is not None, "the factory certificate was removed"
