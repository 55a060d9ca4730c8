"""Steps for administrator authentication: LDAP, role mappings and client certificates.

The settings are read from the primary deployment's API; who can use the Management Node is
then shown on its HTTPS listener (`steps.pexip.web`): requests to its API and Administrator
interface with or without one of the site's client certificates
(``[systems.pexip.primary.client_certificates]``) or the local administrator's user name and
password, each exchange recorded with secrets, cookies and keys hidden. A step that logs in
logs out again, so verification leaves no session behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID
from pytest_bdd import given, parsers, then

from accord.labca import write_private
from accord.pexip import baseline
from accord.pexip.deployment import Deployment
from accord.pki import CA, load_certificate, upn_names
from accord.site import Site
from steps.common import Observe, Subject
from steps.pexip.web import API_PATH, LOGIN, ManagementNodeWeb, logged_in, record, refused

Obj = dict[str, Any]


@given("the LDAP role mappings of the primary deployment", target_fixture="mappings")
def mappings(primary: Deployment) -> list[Obj]:
    return primary.role_mappings()


@given(
    "the administrator authentication settings of the primary deployment", target_fixture="subject"
)
def authentication(primary: Deployment) -> Subject:
    return Subject(
        f"the administrator authentication of {primary.name}",
        primary.authentication(),
        baseline.AUTHENTICATION_LABELS,
    )


@then("the LDAP server address, LDAP bind username and LDAP base DN are the site's")
def ldap_connection(subject: Subject, site: Site, observe: Observe) -> None:
    ldap = site.pexip.ldap
    expected = {
        "LDAP server address": ldap.server,
        "LDAP bind username": ldap.bind_username,
        "LDAP base DN": ldap.base_dn,
    }
    actual = {label: subject.value(label) for label in expected}
    observe(f"{subject.name}: LDAP connection", actual)
    wrong = {label: actual[label] for label, value in expected.items() if actual[label] != value}
    assert not wrong, f"{subject.name} differs from the site: {wrong}; the site: {expected}"


@then("the LDAP bind password is the site's")
def ldap_bind_password(subject: Subject, site: Site, observe: Observe) -> None:
    matches = baseline.secret_matches(
        subject.value("LDAP bind password"), site.resolve(site.pexip.ldap.bind_password)
    )
    observe(f"{subject.name}: LDAP bind password is the site's", matches)
    assert matches, f"the LDAP bind password of {subject.name} is not the site's (or is not set)"


@then(parsers.parse('the LDAP bind username is a service account, not "{first}" or "{second}"'))
def bind_user_is_service_account(subject: Subject, first: str, second: str) -> None:
    user = str(subject.value("LDAP bind username") or "")
    account = user.split("\\")[-1].split("@")[0]
    if account.lower().startswith(("cn=", "uid=")):
        account = account.split(",")[0].split("=", 1)[1]
    assert account.lower() not in (first.lower(), second.lower()), (
        f"the LDAP bind username of {subject.name} is {user!r}; the guide: a domain user "
        "service account, not the Administrator account"
    )


@then("every administrator role is mapped to at least one LDAP group")
def every_role_mapped(roles: list[Obj], mappings: list[Obj], observe: Observe) -> None:
    mapped: dict[str, list[str]] = {role["resource_uri"]: [] for role in roles}
    for mapping in mappings:
        for uri in mapping.get("roles", []):
            mapped.setdefault(uri, []).append(mapping.get("ldap_group_dn", ""))
    names = {role["resource_uri"]: role["name"] for role in roles}
    observe(
        "LDAP groups per role",
        {names[uri]: groups for uri, groups in mapped.items() if uri in names},
    )
    unmapped = [names[uri] for uri in names if not mapped[uri]]
    assert not unmapped, f"role(s) {unmapped} are mapped to no LDAP group"


@then('"Require client certificate" is one of the Required options')
def client_certificate_required(subject: Subject, observe: Observe) -> None:
    value = subject.value("Require client certificate")
    observe(f"{subject.name}: Require client certificate", value)
    assert value in ("CN", "UPN"), (
        f'"Require client certificate" is {baseline.choice_label("client_certificate", value)} '
        f"in {subject.name}; the guide: one of the Required options"
    )


@then(
    "the API refuses a request without a client certificate, even with the local "
    "administrator's password"
)
def api_needs_certificate(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-05: neither no credentials nor a password opens the API without a certificate."""
    node = management_node
    results = {
        "no credentials": node.request(API_PATH),
        "local administrator's password": node.request(API_PATH, headers=node.basic()),
    }
    record(observe, "API requests without a client certificate", results)
    served = [f"{name}: {r.status or r.error}" for name, r in results.items() if not refused(r)]
    assert not served, f"the API answered without a client certificate ({'; '.join(served)})"


@then("the Administrator interface offers no password login page without a client certificate")
def no_login_page(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-05: "When a client certificate is required, the standard login page is no longer
    presented" (the guide)."""
    exchange = management_node.request(LOGIN)
    record(observe, f"GET {LOGIN} without a client certificate", {"login page": exchange})
    page = exchange.body_excerpt or ""
    offered = exchange.status == 200 and 'name="password"' in page
    assert exchange.answered, f"no answer from the Administrator interface: {exchange.error}"
    assert not offered, "the password login page is offered"
    assert refused(exchange), f"answered {exchange.status} without a client certificate"


def _with_certificate(node: ManagementNodeWeb, certificate: tuple[Path, Path]) -> dict[str, Any]:
    """The API and the Administrator interface, each asked with ``certificate``."""
    return {
        "API": node.request(API_PATH, certificate=certificate),
        "Administrator interface": node.request(LOGIN, certificate=certificate),
    }


@then(
    "a client certificate whose identity is in no directory is refused by the API and the "
    "Administrator interface"
)
def outsider_refused(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-05: a certificate from a trusted CA is not enough; its identity must be in LDAP."""
    results = _with_certificate(management_node, management_node.certificate("not_in_directory"))
    record(observe, "requests with a client certificate for an identity in no directory", results)
    served = [f"{name}: {r.status}" for name, r in results.items() if not refused(r)]
    assert not served, f"served for an identity in no directory ({'; '.join(served)})"


@then("a client certificate with the administrator's identity that no trusted CA signed is refused")
def untrusted_refused(management_node: ManagementNodeWeb, observe: Observe, tmp_path: Path) -> None:
    """AUTH-05: the identity alone is not enough; the certificate must be valid (signed by a
    CA the node trusts). The probe makes its own CA and certificate for this request."""
    cert_file, _ = management_node.certificate("administrator")
    genuine = load_certificate(cert_file.read_bytes())
    names = genuine.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    upns = upn_names(genuine)
    stranger = CA.new("Accord probe: an untrusted CA", key_type="ecdsa", days=1)
    leaf = stranger.issue_cert(
        common_name=str(names[0].value) if names else None,
        upn=upns[0] if upns else None,
        eku=("clientAuth",),
        days=1,
    )
    certificate, key = tmp_path / "untrusted.pem", tmp_path / "untrusted-key.pem"
    certificate.write_text(leaf.cert_pem)
    write_private(key, leaf.key_pem())
    results = _with_certificate(management_node, (certificate, key))
    record(observe, "requests with an untrusted certificate naming the administrator", results)
    served = [f"{name}: {r.status}" for name, r in results.items() if not refused(r)]
    assert not served, f"served for an untrusted certificate ({'; '.join(served)})"


@then(
    "the administrator's client certificate is accepted by the API and the Administrator interface"
)
def administrator_accepted(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """The refusals above are about the certificates, not about the node refusing everyone."""
    node = management_node
    certificate = node.certificate("administrator")
    api = node.request(API_PATH, certificate=certificate)
    login = node.request(LOGIN, certificate=certificate)
    with node.session(login):
        record(
            observe, "requests with the administrator's certificate", {"API": api, "login": login}
        )
    assert api.status == 200, f"the API answered {api.status or api.error}"
    assert logged_in(login), f"no session from the interface: {login.status or login.error}"


@then("the local administrator's user name and password are refused by the API and the login form")
def local_password_refused(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-06: the local account "can no longer log in"."""
    node = management_node
    api = node.request(API_PATH, headers=node.basic())
    form = node.login_form(node.username, node.local_password())
    with node.session(form):
        record(observe, "the local administrator's password", {"API": api, "login form": form})
    assert refused(api), f"the API answered {api.status} to the local administrator"
    assert not logged_in(form), "the login form opened a session for the local administrator"


@then("a client certificate naming the local administrator account is refused")
def local_certificate_refused(management_node: ManagementNodeWeb, observe: Observe) -> None:
    """AUTH-06: with the source "LDAP database" only, an identity that exists only in the local
    database is in no selected source (with "LDAP and local" it would be accepted)."""
    node = management_node
    results = _with_certificate(node, node.certificate("local_administrator"))
    record(observe, "requests with a certificate naming the local administrator", results)
    served = [f"{name}: {r.status}" for name, r in results.items() if not refused(r)]
    assert not served, f"served for the local administrator's identity ({'; '.join(served)})"
