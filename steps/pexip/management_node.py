"""Steps for the Management Node's deployment and bootstrap configuration: the configured
administrator logs in over HTTPS (`steps.pexip.web`); its settings are global settings
(`steps.pexip.common`).
"""

from __future__ import annotations

from pathlib import Path

from pytest_bdd import then

from steps.common import Observe
from steps.pexip.web import HOME, LOGIN, ManagementNodeWeb, logged_in, record


@then("the configured administrator logs in to the Administrator interface over HTTPS")
def administrator_logs_in(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """MGMT-03: with a client certificate where the node requires one, else with the local
    administrator's user name and password through the login form; the interface's start page
    is then served for the session."""
    node = management_node
    if node.certificates_required:
        certificate: tuple[Path, Path] | None = node.certificate("administrator")
        login = node.request(LOGIN, certificate=certificate)
        how = "with the administrator's client certificate"
    else:
        certificate = None
        login = node.login_form(node.username, node.local_password())
        how = "with the local administrator's user name and password"
    with node.session(login) as cookie:
        headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
        home = node.request(HOME, certificate=certificate, headers=headers)
        record(observe, f"logging in {how}", {"login": login, "start page": home})
    assert logged_in(login), f"no session: {login.status or login.error}"
    assert home.status == 200, f"the start page answered {home.status or home.error}"
