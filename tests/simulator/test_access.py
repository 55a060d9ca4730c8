"""Who may use the Management Node when authentication is enforced (``access``, ``adminweb``):
real HTTPS requests to the primary Management Node's listener (client certificates presented
in real TLS handshakes), a real slapd seeded with alice (in ``pexip-admins``, mapped to a
role), bob (in groups mapped to no role) and carol (in no group), and no mocks.

Every response is checked for the LDAP bind password (never in any body or header).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from accord.http import session
from accord.pki.ca import CA, LeafCert
from simulator.ldap import Slapd, directory_entries
from simulator.pexip import ManagementNodeSimulator, faults
from tests.ldap.conftest import (
    ALICE_PASSWORD,
    BIND_PASSWORD,
    BOB_PASSWORD,
    CAROL_PASSWORD,
    GROUPS,
    ROOT_PASSWORD,
    SERVER_NAME,
    SERVICE,
    SUFFIX,
    USERS,
    Issued,
    issue_server,
    make_ca,
    settings,
)
from tests.simulator.conftest import CONFIG, PASSWORD, USERNAME

AUTH = CONFIG + "authentication/1/"
CA_LIST = CONFIG + "ca_certificate/"
LDAP_ROLE = CONFIG + "ldap_role/"
READ_WRITE = CONFIG + "role/2/"
READ = CONFIG + "system_location/?limit=1"
LOGIN, HOME, LOGOUT = "/admin/login/", "/admin/", "/admin/logout/"
FAULTS = "/_sim/faults"
WIZARD = "/_sim/security_wizard"
ADMINS = f"cn=pexip-admins,ou=groups,{SUFFIX}"
AUDITORS = f"cn=pexip-auditors,ou=groups,{SUFFIX}"
WRONG = "Please enter a correct username and password."
TOO_MANY = "Too many active management web sessions."
PASSWORD_FIELD = 'name="password"'
UPN_FILTER = "(|(userPrincipalName={username})(uid={username}))"
SIM = (USERNAME, PASSWORD)
ALICE = ("alice", ALICE_PASSWORD)
BOB = ("bob", BOB_PASSWORD)
CAROL = ("carol", CAROL_PASSWORD)
MODES = ("CN", "UPN")

CLIENT_ROOT = CA.new("Access Test Client Root CA")
CLIENT_CA = CLIENT_ROOT.issue_intermediate("Access Test Client Issuing CA")
STRANGER_CA = CA.new("Access Test Untrusted CA")


def _client(ca: CA, common_name: str, upn: str | None = None, **kwargs: Any) -> LeafCert:
    kwargs.setdefault("eku", ("clientAuth",))
    return ca.issue_cert(common_name=common_name, upn=upn, **kwargs)


# The client certificates, by name (files written once per module).
LEAVES: dict[str, LeafCert] = {
    "alice": _client(CLIENT_CA, "alice", "alice@lab.example"),
    "bob": _client(CLIENT_CA, "bob", "bob@lab.example"),
    "carol": _client(CLIENT_CA, "carol", "carol@lab.example"),
    "outsider": _client(CLIENT_CA, "nobody", "nobody@lab.example"),
    "local": _client(CLIENT_CA, USERNAME, f"{USERNAME}@lab.example"),
    "local-upn": _client(CLIENT_CA, "someone", USERNAME),
    # CN and UPN name different users: the mode decides which one counts.
    "carol-as-alice": _client(CLIENT_CA, "carol", "alice@lab.example"),
    "alice-no-upn": _client(CLIENT_CA, "alice"),
    # Filter metacharacters: matched literally (RFC 4515 escaping), so nobody.
    "wildcard": _client(CLIENT_CA, "ali*", "ali*@lab.example"),
    "stranger": _client(STRANGER_CA, "alice", "alice@lab.example"),
    "server-only": _client(CLIENT_CA, "alice", "alice@lab.example", eku=("serverAuth",)),
    "expired": _client(
        CLIENT_CA,
        "alice",
        "alice@lab.example",
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30),
        days=2,
    ),
}


# -- fixtures ------------------------------------------------------------------------------


@dataclass
class Lab:
    """The module's directory and simulator, and the client certificate files."""

    slapd: Slapd
    ldap_ca: Issued
    node: ManagementNodeSimulator
    certs: dict[str, tuple[str, str]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    ldap_ca = make_ca("Access Test LDAP CA")
    server = issue_server(ldap_ca)
    slapd = Slapd(
        tmp_path_factory.mktemp("ldap"),
        SUFFIX,
        ROOT_PASSWORD,
        server.certificate_pem,
        server.key_pem,
    )
    files = tmp_path_factory.mktemp("client-certs")
    certs: dict[str, tuple[str, str]] = {}
    for name, leaf in LEAVES.items():
        cert, key = files / f"{name}.pem", files / f"{name}-key.pem"
        cert.write_text(leaf.chain_pem)
        key.write_text(leaf.key_pem())
        certs[name] = (str(cert), str(key))

    def resolve(name: str) -> tuple[str, int, int]:
        if name.lower() != SERVER_NAME:
            raise LookupError(name)
        return slapd.host, slapd.port, slapd.ldaps_port

    with slapd:
        slapd.add(directory_entries(SUFFIX, USERS, GROUPS, SERVICE))
        with ManagementNodeSimulator(
            name="pexip-access",
            username=USERNAME,
            password=PASSWORD,
            workdir=tmp_path_factory.mktemp("pexip-access"),
            node_listeners=True,
            enforce_authentication=True,
            ldap_resolve=resolve,
        ) as node:
            yield Lab(slapd, ldap_ca, node, certs)


class Client:
    """HTTPS to the primary Management Node's listener (by address, verified for its FQDN);
    a fresh connection per request, so each request's handshake follows the current policy."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.node = lab.node
        self.base = lab.node.url.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        cert: str | None = None,
        auth: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        kwargs.setdefault("allow_redirects", False)
        with session(self.node.server_name) as http:
            http.trust_env = False
            response = http.request(
                method,
                self.base + path,
                verify=str(self.node.ca_file),
                cert=self.lab.certs[cert] if cert else None,
                auth=auth,
                **kwargs,
            )
        no_secret(response)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def api(self, **kwargs: Any) -> int:
        """The status of an API read."""
        return self.get(READ, **kwargs).status_code

    def write(self, method: str, path: str, body: Any, **kwargs: Any) -> requests.Response:
        response = self.request(method, path, json=body, **kwargs)
        assert response.status_code in (200, 201, 202, 204), (path, response.text)
        return response

    def configure(self, *, as_: dict[str, Any] | None = None, **overrides: Any) -> None:
        """PATCH the authentication settings (the test directory's, no client certificate,
        with ``overrides``) as the local administrator, or with ``as_`` (``cert=`` /
        ``auth=``)."""
        who = as_ if as_ is not None else {"auth": SIM}
        self.write("PATCH", AUTH, settings(**{"client_certificate": "NO", **overrides}), **who)

    def login(self, username: str, password: str, **kwargs: Any) -> requests.Response:
        form = {"username": username, "password": password}
        return self.request("POST", LOGIN, data=form, **kwargs)

    def faults(self, *names: str) -> None:
        """Switch faults over ``/_sim/faults`` (the simulator's own credentials)."""
        response = self.write("PUT", FAULTS, {"active": list(names)}, auth=SIM)
        assert response.json()["active"] == sorted(names)

    def wizard(self, **answers: Any) -> None:
        self.write("PUT", WIZARD, {"answers": answers}, auth=SIM)


def no_secret(response: requests.Response) -> None:
    """The bind password is in neither the body nor any header."""
    assert BIND_PASSWORD not in response.text, response.text
    assert not any(BIND_PASSWORD in value for value in response.headers.values())


@pytest.fixture
def client(lab: Lab) -> Iterator[Client]:
    """Factory-fresh (source LOCAL, no session, no fault) with the LDAP server's CA and the
    client certificates' root in the trusted CA list (clients send the intermediate), and
    ``pexip-admins`` mapped to the Read-write role."""
    node = lab.node
    node.model.faults.clear()
    node.model.reset()
    node.app.web.clear()
    node.app.log.clear()
    node.sync_listeners()
    client = Client(lab)
    client.write("POST", CA_LIST, {"certificate": lab.ldap_ca.certificate_pem}, auth=SIM)
    client.write("POST", CA_LIST, {"certificate": CLIENT_ROOT.cert_pem}, auth=SIM)
    mapping = {"name": "Admins", "ldap_group_dn": ADMINS, "roles": [READ_WRITE]}
    client.write("POST", LDAP_ROLE, mapping, auth=SIM)
    yield client
    node.model.faults.clear()


def certificate_mode(mode: str, source: str = "LDAP") -> dict[str, Any]:
    """Settings requiring client certificates (``mode`` CN or UPN) with ``source``."""
    extra = {"ldap_user_search_filter": UPN_FILTER} if mode == "UPN" else {}
    return {"source": source, "client_certificate": mode, **extra}


def identity(name: str, mode: str) -> str:
    """How a test user's certificate names them in ``mode``."""
    return f"{name}@lab.example" if mode == "UPN" else name


def refused(client: Client, path: str = READ, **kwargs: Any) -> bool:
    """The request was refused: 403, or its TLS handshake failed (an untrusted certificate)."""
    try:
        response = client.get(path, **kwargs)
    except requests.exceptions.ConnectionError:  # SSLError included
        return True
    return response.status_code == 403


def session_of(response: requests.Response) -> str:
    """The session cookie a successful login sets (302 to the start page)."""
    assert response.status_code == 302, (response.status_code, response.text)
    assert response.headers["Location"].endswith(HOME)
    cookie = response.cookies.get("sessionid")
    assert cookie, response.headers
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie
    return cookie


def no_session(response: requests.Response) -> None:
    assert "sessionid" not in response.cookies
    assert "Set-Cookie" not in response.headers


def wrong_form(response: requests.Response) -> None:
    """The login form again, with Django's error, and no session."""
    assert response.status_code == 200, (response.status_code, response.text)
    assert WRONG in response.text and PASSWORD_FIELD in response.text
    no_session(response)


def forbidden_page(response: requests.Response) -> None:
    """403, without the password form and without a session."""
    assert response.status_code == 403, (response.status_code, response.text)
    assert PASSWORD_FIELD not in response.text
    no_session(response)


def home(client: Client, cookie: str, **kwargs: Any) -> requests.Response:
    return client.get(HOME, cookies={"sessionid": cookie}, **kwargs)


# -- source LOCAL --------------------------------------------------------------------------


def test_local_source_takes_the_local_administrator_only(client):
    client.configure(source="LOCAL")
    assert client.api(auth=SIM) == 200
    unauthorized = client.get(READ, auth=ALICE)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["WWW-Authenticate"] == 'Basic realm="Pexip Infinity"'
    assert client.api() == 401
    assert client.api(auth=(USERNAME, PASSWORD + "x")) == 401
    # No certificate is asked for or looked at: even an untrusted one passes the handshake.
    assert client.api(cert="alice") == 401
    assert client.api(cert="stranger", auth=SIM) == 200
    cookie = session_of(client.login(*SIM))
    page = home(client, cookie)
    assert page.status_code == 200 and f"Logged in as {USERNAME}" in page.text
    wrong_form(client.login(*ALICE))


def test_factory_settings_without_ldap_take_the_local_administrator_only(client):
    assert client.get(AUTH, auth=SIM).json()["source"] == "LOCAL"
    assert client.api(auth=SIM) == 200
    assert client.api(auth=ALICE) == 401
    login = client.get(LOGIN)
    assert login.status_code == 200 and PASSWORD_FIELD in login.text
    assert client.get(HOME).status_code == 302
    assert client.get(HOME).headers["Location"].endswith(LOGIN)


# -- LDAP+LOCAL ----------------------------------------------------------------------------


def test_ldap_and_local_api_takes_both_over_basic(client):
    client.configure(source="LDAP+LOCAL")
    assert client.api(auth=SIM) == 200
    assert client.api(auth=ALICE) == 200
    assert client.api(auth=("alice", BOB_PASSWORD)) == 401
    assert client.api(auth=("alice", "")) == 401
    assert client.api(auth=(USERNAME, "wrong")) == 401
    assert client.api(auth=("nobody", ALICE_PASSWORD)) == 401
    assert client.api(auth=("*", ALICE_PASSWORD)) == 401
    assert client.api(auth=("ali*", ALICE_PASSWORD)) == 401
    assert client.api() == 401
    # In the directory with the right password, but no group mapped to a role.
    for user in (BOB, CAROL):
        response = client.get(READ, auth=user)
        assert response.status_code == 403, response.text
        assert "no administrator role" in response.text
    # A write as the LDAP user works too (roles are not checked against permissions).
    client.write("PATCH", CONFIG + "global/1/", {"enable_analytics": False}, auth=ALICE)


def test_ldap_and_local_login_form_takes_both(client):
    client.configure(source="LDAP+LOCAL")
    for username, password in (SIM, ALICE):
        cookie = session_of(client.login(username, password))
        page = home(client, cookie)
        assert page.status_code == 200 and f"Logged in as {username}" in page.text
        out = client.request("POST", LOGOUT, cookies={"sessionid": cookie})
        assert out.status_code == 302 and out.headers["Location"].endswith(LOGIN)
        assert out.headers["Set-Cookie"].startswith("sessionid=;")
        assert "Max-Age=0" in out.headers["Set-Cookie"]
        gone = home(client, cookie)
        assert gone.status_code == 302 and gone.headers["Location"].endswith(LOGIN)
    wrong_form(client.login("alice", BOB_PASSWORD))
    wrong_form(client.login(USERNAME, "wrong"))
    wrong_form(client.login("alice", ""))
    wrong_form(client.login(*BOB))  # no role: no session either
    wrong_form(client.login(*CAROL))


def test_role_mappings_are_read_at_each_request_and_compare_dns_case_insensitively(client):
    client.configure(source="LDAP+LOCAL")
    assert client.api(auth=BOB) == 403
    upper = {"name": "Auditors", "ldap_group_dn": AUDITORS.upper(), "roles": [READ_WRITE]}
    uri = client.write("POST", LDAP_ROLE, upper, auth=SIM).headers["Location"]
    assert client.api(auth=BOB) == 200  # through the group search (groupOfNames member)
    client.write("DELETE", uri.removeprefix(client.base), None, auth=SIM)
    assert client.api(auth=BOB) == 403
    mappings = client.get(LDAP_ROLE, auth=SIM).json()["objects"]
    client.write("DELETE", mappings[0]["resource_uri"], None, auth=SIM)
    assert client.api(auth=ALICE) == 403


def test_groups_from_member_of_alone_give_the_role(client):
    client.configure(source="LDAP+LOCAL", ldap_group_membership_filter="")
    assert client.api(auth=ALICE) == 200
    client.configure(
        source="LDAP+LOCAL", ldap_group_membership_filter="", ldap_user_group_attributes=""
    )
    assert client.api(auth=ALICE) == 403  # no group found at all


# -- LDAP only (AUTH-06) -------------------------------------------------------------------


def test_ldap_only_refuses_the_local_administrator(client):
    client.configure(source="LDAP")
    assert client.api(auth=SIM) == 401
    wrong_form(client.login(*SIM))
    assert client.api(auth=ALICE) == 200
    cookie = session_of(client.login(*ALICE))
    assert home(client, cookie).status_code == 200
    assert client.api(auth=BOB) == 403
    # The simulator's own control plane still takes its credentials.
    assert client.get(FAULTS, auth=SIM).status_code == 200


# -- client certificates (AUTH-05) ---------------------------------------------------------


@pytest.mark.parametrize("source", ["LDAP", "LDAP+LOCAL"])
@pytest.mark.parametrize("mode", MODES)
def test_without_a_certificate_nothing_is_accepted_not_even_a_password(client, mode, source):
    client.configure(**certificate_mode(mode, source))
    for auth in (None, SIM, ALICE):
        response = client.get(READ, auth=auth)
        assert response.status_code == 403, (auth, response.text)
        assert "client certificate" in response.text
        assert "WWW-Authenticate" not in response.headers
    forbidden_page(client.get(LOGIN))
    forbidden_page(client.login(*ALICE))
    forbidden_page(client.login(*SIM))
    forbidden_page(client.get(HOME))


@pytest.mark.parametrize("mode", MODES)
def test_a_certificate_of_an_ldap_user_with_a_role_opens_api_and_interface(client, mode):
    client.configure(**certificate_mode(mode))
    assert client.api(cert="alice") == 200
    # The certificate alone identifies: a wrong password or another user's changes nothing.
    assert client.api(cert="alice", auth=("alice", "wrong")) == 200
    assert client.api(cert="alice", auth=BOB) == 200
    assert client.api(cert="carol", auth=ALICE) == 403
    assert client.api(cert="carol", auth=SIM) == 403
    cookie = session_of(client.get(LOGIN, cert="alice"))
    page = home(client, cookie, cert="alice")
    assert page.status_code == 200
    assert f"Logged in as {identity('alice', mode)}" in page.text
    # A POST of the form with someone else's password changes nothing either.
    other = session_of(client.login(*SIM, cert="alice"))
    assert other != cookie
    assert f"Logged in as {identity('alice', mode)}" in home(client, other, cert="alice").text
    out = client.request("POST", LOGOUT, cookies={"sessionid": cookie}, cert="alice")
    assert out.status_code == 302 and out.headers["Location"].endswith(LOGIN)
    # The old session is gone: without a certificate 403, with it a new session starts.
    forbidden_page(home(client, cookie))
    again = home(client, cookie, cert="alice")
    assert session_of(again) not in (cookie, other)


@pytest.mark.parametrize("mode", MODES)
def test_a_certificate_whose_identity_is_not_an_administrator_is_refused(client, mode):
    client.configure(**certificate_mode(mode))
    for name in ("outsider", "carol", "bob", "wildcard"):
        response = client.get(READ, cert=name)
        assert response.status_code == 403, (name, response.text)
        forbidden_page(client.get(LOGIN, cert=name))
        forbidden_page(client.get(HOME, cert=name))
    assert "no administrator role" in client.get(READ, cert="bob").text


def test_the_mode_decides_whether_cn_or_upn_names_the_user(client):
    client.configure(**certificate_mode("CN"))
    assert client.api(cert="carol-as-alice") == 403
    assert client.api(cert="alice-no-upn") == 200
    client.configure(as_={"cert": "alice"}, **certificate_mode("UPN"))
    assert client.api(cert="carol-as-alice") == 200
    assert client.api(cert="alice-no-upn") == 403
    assert client.api(cert="alice") == 200


def test_a_session_cookie_alone_does_not_open_the_interface_while_certificates_are_required(
    client,
):
    client.configure(**certificate_mode("CN"))
    cookie = session_of(client.get(LOGIN, cert="alice"))
    forbidden_page(home(client, cookie))


def test_a_basic_user_name_that_is_not_utf8_is_refused_not_an_error(client):
    client.configure(source="LDAP+LOCAL")
    token = base64.b64encode(b"\xff\xfe:" + ALICE_PASSWORD.encode()).decode()
    response = client.get(READ, headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize("name", ["stranger", "server-only", "expired"])
def test_certificates_the_node_cannot_verify_are_refused(client, name):
    client.configure(**certificate_mode("CN"))
    assert refused(client, cert=name)
    assert refused(client, LOGIN, cert=name)
    assert client.api(cert="alice") == 200


def test_the_trusted_ca_list_decides_which_certificates_verify_at_the_next_handshake(client):
    client.configure(**certificate_mode("CN"))
    assert refused(client, cert="stranger")
    client.write("POST", CA_LIST, {"certificate": STRANGER_CA.cert_pem}, cert="alice")
    assert client.api(cert="stranger") == 200
    cas = client.get(CA_LIST, cert="alice").json()["objects"]
    ours = next(ca for ca in cas if ca["certificate"].strip() == CLIENT_ROOT.cert_pem.strip())
    client.write("DELETE", ours["resource_uri"], None, cert="stranger")
    assert refused(client, cert="alice")
    assert client.api(cert="stranger") == 200


@pytest.mark.parametrize("mode", MODES)
def test_the_local_administrators_name_in_a_certificate_counts_while_the_source_is_local(
    client, mode
):
    local = {"CN": "local", "UPN": "local-upn"}[mode]
    client.configure(**certificate_mode(mode, "LDAP+LOCAL"))
    assert client.api(cert=local) == 200
    cookie = session_of(client.get(LOGIN, cert=local))
    assert f"Logged in as {USERNAME}" in home(client, cookie, cert=local).text
    client.configure(as_={"cert": local}, **certificate_mode(mode, "LDAP"))
    assert client.api(cert=local) == 403
    forbidden_page(client.get(LOGIN, cert=local))
    assert client.api(cert="alice") == 200


def test_the_lab_local_administrator_certificate_is_refused_in_upn_mode(client):
    # Its UPN is admin@lab.example, not the local account's name "admin".
    client.configure(**certificate_mode("UPN", "LDAP+LOCAL"))
    assert client.api(cert="local") == 403


# -- faults --------------------------------------------------------------------------------


def test_fault_names_are_the_catalogues(client):
    available = client.get(FAULTS, auth=SIM).json()["available"]
    for name in (
        "auth05_identity_not_checked",
        "auth05_login_page_offered",
        "auth06_local_password_accepted",
        "mgmt03_start_page_refused",
    ):
        assert name in available
    assert faults.AUTH05_IDENTITY_NOT_CHECKED == "auth05_identity_not_checked"
    assert faults.AUTH05_LOGIN_PAGE_OFFERED == "auth05_login_page_offered"
    assert faults.AUTH06_LOCAL_PASSWORD_ACCEPTED == "auth06_local_password_accepted"
    assert faults.MGMT03_START_PAGE_REFUSED == "mgmt03_start_page_refused"


def test_fault_auth05_identity_not_checked_accepts_any_trusted_identity(client):
    client.configure(**certificate_mode("CN"))
    assert client.api(cert="outsider") == 403
    client.faults("auth05_identity_not_checked")
    assert client.api(cert="outsider") == 200
    cookie = session_of(client.get(LOGIN, cert="outsider"))
    assert "Logged in as nobody" in home(client, cookie, cert="outsider").text
    # Only identities in no directory: a directory user without a role is still refused,
    # and neither a missing nor an untrusted certificate gets through.
    assert client.api(cert="carol") == 403
    assert client.api() == 403
    assert client.api(auth=SIM) == 403
    assert refused(client, cert="stranger")
    assert client.api(cert="alice") == 200
    client.faults()
    assert client.api(cert="outsider") == 403
    forbidden_page(client.get(LOGIN, cert="outsider"))


def test_fault_auth05_login_page_offered_shows_a_form_that_never_logs_in(client):
    client.configure(**certificate_mode("CN", "LDAP+LOCAL"))
    forbidden_page(client.get(LOGIN))
    client.faults("auth05_login_page_offered")
    offered = client.get(LOGIN)
    assert offered.status_code == 200 and PASSWORD_FIELD in offered.text
    assert WRONG not in offered.text
    wrong_form(client.login(*ALICE))
    wrong_form(client.login(*SIM))
    # Nothing else changes: the API and the start page still want a certificate, and a
    # certificate still logs in.
    assert client.api(auth=ALICE) == 403
    forbidden_page(client.get(HOME))
    cookie = session_of(client.get(LOGIN, cert="alice"))
    assert home(client, cookie, cert="alice").status_code == 200
    forbidden_page(client.get(LOGIN, cert="outsider"))
    client.faults()
    forbidden_page(client.get(LOGIN))


def test_fault_auth06_local_password_accepted_opens_the_api_to_the_local_password(client):
    client.configure(**certificate_mode("CN"))
    assert client.api(auth=SIM) == 403
    client.faults("auth06_local_password_accepted")
    assert client.api(auth=SIM) == 200
    assert client.api(auth=(USERNAME, PASSWORD + "x")) == 403
    assert client.api(auth=ALICE) == 403  # LDAP users still need their certificate
    assert client.api() == 403
    forbidden_page(client.get(LOGIN))  # the Administrator interface still wants one
    assert client.api(cert="alice") == 200
    # Without certificates, LDAP only: the local password works over the API all the same.
    client.configure(as_={"auth": SIM}, source="LDAP")
    assert client.api(auth=SIM) == 200
    assert client.api(auth=ALICE) == 200
    client.faults()
    assert client.api(auth=SIM) == 401


def test_fault_auth06_opens_the_login_form_to_the_local_administrator_too(client):
    client.configure(source="LDAP")
    wrong_form(client.login(*SIM))
    client.faults("auth06_local_password_accepted")
    assert session_of(client.login(*SIM))


def test_fault_mgmt03_start_page_refused_refuses_every_session(client):
    client.faults("mgmt03_start_page_refused")
    cookie = session_of(client.login(*SIM))  # logging in still works
    refused_page = home(client, cookie)
    assert refused_page.status_code == 403
    # Nothing else changes: the API, and the redirect of a browser without a session.
    assert client.api(auth=SIM) == 200
    assert client.get(HOME).status_code == 302
    client.configure(**certificate_mode("CN"))
    cookie = session_of(client.get(LOGIN, cert="alice"))
    assert home(client, cookie, cert="alice").status_code == 403
    assert client.api(cert="alice") == 200
    client.faults()
    page = home(client, cookie, cert="alice")
    assert page.status_code == 200 and "Logged in as alice" in page.text


def test_faults_set_in_process_act_the_same(client):
    client.configure(**certificate_mode("CN"))
    client.node.model.faults.set({"active": ["auth05_login_page_offered"]})
    assert client.get(LOGIN).status_code == 200
    assert client.get(FAULTS, auth=SIM).json()["active"] == ["auth05_login_page_offered"]
    client.node.model.faults.set({"active": []})
    forbidden_page(client.get(LOGIN))


# -- secrets, the control plane, the directory ---------------------------------------------


def test_the_bind_password_is_never_answered(client):
    client.configure(source="LDAP+LOCAL")
    stored = client.get(AUTH, auth=SIM).json()["ldap_bind_password"]
    assert stored and stored != BIND_PASSWORD
    assert client.get(CONFIG + "authentication/", auth=SIM).status_code == 200
    assert client.get("/_sim/state", auth=SIM).status_code == 200
    assert client.get("/_sim/requests", auth=SIM).status_code == 200
    too_long = client.request("PATCH", AUTH, json={"ldap_bind_password": BIND_PASSWORD * 10})
    assert too_long.status_code == 401
    too_long = client.request(
        "PATCH", AUTH, json={"ldap_bind_password": BIND_PASSWORD * 10}, auth=SIM
    )
    assert too_long.status_code == 400
    # The directory failing for any reason: refused, with nothing of the password.
    client.configure(source="LDAP+LOCAL", ldap_bind_password=BIND_PASSWORD + "-wrong")
    assert client.api(auth=ALICE) == 401
    client.configure(source="LDAP+LOCAL", ldap_server="ldap.nowhere.example")
    assert client.api(auth=ALICE) == 401
    client.configure(**certificate_mode("CN", "LDAP+LOCAL"), ldap_server="ldap.nowhere.example")
    response = client.get(READ, cert="alice")
    assert response.status_code == 403 and "cannot be reached" in response.text
    forbidden_page(client.get(LOGIN, cert="alice"))
    # (`Client.request` checks every response's body and headers.)


def test_the_directory_is_trusted_through_the_trusted_ca_list_only(client, lab):
    client.configure(source="LDAP+LOCAL")
    assert client.api(auth=ALICE) == 200
    cas = client.get(CA_LIST, auth=SIM).json()["objects"]
    ldap_ca = lab.ldap_ca.certificate_pem.strip()
    ours = next(ca for ca in cas if ca["certificate"].strip() == ldap_ca)
    client.write("DELETE", ours["resource_uri"], None, auth=SIM)
    assert client.api(auth=ALICE) == 401  # no fallback to plain LDAP
    assert client.api(auth=SIM) == 200  # the local account does not need the directory
    client.configure(source="LDAP+LOCAL", ldap_permit_no_tls=True)
    assert client.api(auth=ALICE) == 200  # plain LDAP, once insecure transport is allowed


def test_the_control_plane_takes_the_simulators_credentials_whatever_the_settings(client):
    client.configure(**certificate_mode("CN"))
    assert client.get(FAULTS, auth=SIM).status_code == 200
    assert client.get(FAULTS).status_code == 401
    assert client.get(FAULTS, cert="alice").status_code == 401
    assert client.get(FAULTS, auth=ALICE, cert="alice").status_code == 401
    assert client.get("/_sim/state", auth=SIM).status_code == 200
    assert client.get(WIZARD, auth=SIM).status_code == 200
    cookie = session_of(client.get(LOGIN, cert="alice"))
    # A reset brings the factory settings (source LOCAL) back and ends every session.
    assert client.request("POST", "/_sim/reset", auth=SIM).status_code == 204
    assert client.api(auth=SIM) == 200
    assert home(client, cookie).status_code == 302


# -- sessions and host headers -------------------------------------------------------------


def test_certificate_logins_count_against_the_session_limits(client):
    client.configure(**certificate_mode("CN", "LDAP+LOCAL"))
    client.wizard(web_sessions_per_user=1, web_sessions_total=2)
    first = session_of(client.get(LOGIN, cert="alice"))
    second = client.get(LOGIN, cert="alice")
    assert second.status_code == 403 and TOO_MANY in second.text
    no_session(second)
    local = session_of(client.get(LOGIN, cert="local"))
    assert client.get(LOGIN, cert="local").status_code == 403
    client.request("POST", LOGOUT, cookies={"sessionid": first}, cert="alice")
    session_of(client.get(LOGIN, cert="alice"))
    assert home(client, local, cert="local").status_code == 200


def test_host_headers_are_validated_when_the_wizard_says_so(client):
    client.configure(**certificate_mode("CN"))
    client.wizard(validate_host_headers=True)
    foreign = {"Host": "evil.example"}
    response = client.get(READ, cert="alice", headers=foreign)
    assert response.status_code == 400 and "Bad Request (400)" in response.text
    assert client.get(LOGIN, cert="alice", headers=foreign).status_code == 400
    named = {"Host": client.node.server_name}
    assert client.get(READ, cert="alice", headers=named).status_code == 200
    assert client.api(cert="alice") == 200  # the address it is reached at
    assert client.get(FAULTS, auth=SIM, headers=foreign).status_code == 200
