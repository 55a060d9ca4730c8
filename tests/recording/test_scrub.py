"""Scrubbing recordings: real secrets become stand-ins, other secrets become REDACTED."""

import gzip
import hashlib
import io
import json
import zlib

import pytest
from vcr.request import Request

from accord.recording.scrub import REDACTED, Scrubber

CANARY = "canary-Pa55word-7f3a"
STAND_IN = "stand-in-password-1"
OTHER = "canary-community-91c2"
OTHER_STAND_IN = "stand-in-community-2"
UNKNOWN = "canary-unknown-4e1d"  # a secret the recorder was not told about
CANARIES = ("canary", CANARY, OTHER, UNKNOWN)


def sha1(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


@pytest.fixture
def scrubber() -> Scrubber:
    return Scrubber.for_secrets([(CANARY, STAND_IN), (OTHER, OTHER_STAND_IN), ("", "ignored")])


def assert_clean(output: object) -> None:
    text = repr(output)
    for canary in CANARIES:
        assert canary not in text
    assert sha1(CANARY) not in text
    assert sha1(OTHER) not in text
    assert "MII" not in text  # no base64 key material


def pem(label: str, body: str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") -> str:
    return f"-----BEGIN {label}-----\n{body}\n{body}\n-----END {label}-----\n"


CERTIFICATE = pem("CERTIFICATE", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
CSR = pem("CERTIFICATE REQUEST", "Q1NSQ1NSQ1NSQ1NSQ1NSQ1NSQ1NS")


# -- substitution ------------------------------------------------------------------------------


def test_secret_and_its_sha1_are_substituted(scrubber):
    out = scrubber.text(f"pw={CANARY} stored={sha1(CANARY)} upper={sha1(CANARY).upper()}")
    assert out == f"pw={STAND_IN} stored={sha1(STAND_IN)} upper={sha1(STAND_IN).upper()}"
    assert_clean(out)


def test_the_longest_secret_is_replaced_whole():
    scrubber = Scrubber.for_secrets([("canary", "short"), ("canary-long", "long")])
    assert scrubber.text("canary-long canary") == "long short"


def test_substitution_is_a_single_pass():
    scrubber = Scrubber.for_secrets([("canary-a", "canary-b"), ("canary-b", "x")])
    assert scrubber.text("canary-a canary-b") == "canary-b x"


def test_encoded_forms_of_a_secret_are_substituted():
    scrubber = Scrubber.for_secrets([('canary p&w/"1', "stand in&2")])
    out = scrubber.text("q=canary+p%26w%2F%221 u=canary%20p%26w%2F%221 x=canary p&amp;w/&quot;1")
    assert out == "q=stand+in%262 u=stand%20in%262 x=stand in&amp;2"
    assert_clean(out)


def test_empty_real_values_are_ignored():
    assert Scrubber.for_secrets([("", "x")]).substitutions == ()
    assert Scrubber().text("nothing to do") == "nothing to do"


# -- JSON --------------------------------------------------------------------------------------


def test_json_secret_fields(scrubber):
    observed = {
        "name": f"node {CANARY}",
        "password": CANARY,
        "ldap_bind_password": sha1(CANARY),
        "stored": sha1(STAND_IN),
        "snmp_community": "corp-comm",
        "admin_password": "",
        "key_size": 2048,
        "enabled": True,
        "passphrase": None,
        "key_ids": [1, 2, 3],
        "nodes": [
            {"snmp_authentication_password": UNKNOWN, "address": "10.0.0.1"},
            {"SNMP_Privacy_Password": OTHER, "private_key_passphrase": "nope"},
        ],
        "secrets": ["canary-in-list", STAND_IN],
    }
    assert scrubber.json(observed) == {
        "name": f"node {STAND_IN}",
        "password": STAND_IN,
        "ldap_bind_password": sha1(STAND_IN),
        "stored": sha1(STAND_IN),
        "snmp_community": REDACTED,
        "admin_password": "",
        "key_size": 2048,
        "enabled": True,
        "passphrase": None,
        "key_ids": [1, 2, 3],
        "nodes": [
            {"snmp_authentication_password": REDACTED, "address": "10.0.0.1"},
            {"SNMP_Privacy_Password": OTHER_STAND_IN, "private_key_passphrase": REDACTED},
        ],
        "secrets": [REDACTED, STAND_IN],
    }
    assert_clean(scrubber.json(observed))


def test_json_does_not_change_its_input(scrubber):
    observed = {"password": CANARY}
    scrubber.json(observed)
    assert observed == {"password": CANARY}


# -- PEM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    ["RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PRIVATE KEY"]
    + ["OPENSSH PRIVATE KEY"],
)
def test_private_keys_are_removed_and_certificates_kept(scrubber, label):
    text = f"{CERTIFICATE}{pem(label)}{CSR}"
    out = scrubber.text(text)
    assert CERTIFICATE in out and CSR in out
    assert "PRIVATE KEY" in out and REDACTED in out
    assert_clean(out.replace(CERTIFICATE, "").replace(CSR, ""))


def test_private_keys_in_json(scrubber):
    key = pem("RSA PRIVATE KEY")
    raw = json.dumps({"certificate": CERTIFICATE, "pem": key})
    assert "\\n" in raw
    for out in (scrubber.text(raw), scrubber.body(raw)):
        parsed = json.loads(out)  # still valid JSON
        assert parsed["certificate"] == CERTIFICATE
        assert "BEGIN" in parsed["pem"] and "MII" not in parsed["pem"]
    assert json.loads(scrubber.body(raw))["pem"] != key


def test_a_truncated_private_key_is_removed(scrubber):
    out = scrubber.text("x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq")
    assert out.startswith("x ") and "MII" not in out


# -- bodies ------------------------------------------------------------------------------------

SOAP = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope><soapenv:Body>'
    '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this>'
    "<userName>administrator@vsphere.local</userName>{password}</Login>"
    "</soapenv:Body></soapenv:Envelope>"
)


@pytest.mark.parametrize(
    "element",
    [
        "<password>{}</password>",
        '<password xsi:type="xsd:string">{}</password>',
        '<ns0:password xsi:type="xsd:string">{}</ns0:password>',
    ],
)
def test_soap_login_password_becomes_the_stand_in(scrubber, element):
    body = SOAP.format(password=element.format(CANARY))
    out = scrubber.body(body.encode())
    assert isinstance(out, bytes)
    assert out.decode() == SOAP.format(password=element.format(STAND_IN))
    assert_clean(out)


def test_soap_login_password_becomes_the_stand_in_for_the_briefs_canary():
    scrubber = Scrubber.for_secrets([("canary", STAND_IN)])
    body = SOAP.format(password="<password>canary</password>")
    out = scrubber.body(body)
    assert isinstance(out, str)
    assert f"<password>{STAND_IN}</password>" in out
    assert_clean(out)


def test_unknown_soap_password_is_redacted(scrubber):
    body = SOAP.format(password=f'<password xsi:type="xsd:string">{UNKNOWN}</password>')
    out = scrubber.body(body)
    assert f'<password xsi:type="xsd:string">{REDACTED}</password>' in out
    assert "<userName>administrator@vsphere.local</userName>" in out
    assert_clean(out)


def test_soap_password_with_xml_escapes():
    scrubber = Scrubber.for_secrets([("canary&1", "stand&in")])
    out = scrubber.body(SOAP.format(password="<password>canary&amp;1</password>"))
    assert "<password>stand&amp;in</password>" in out


def test_json_body_is_scrubbed_and_redumped(scrubber):
    body = json.dumps({"password": CANARY, "community": "corp-comm", "n": 1}, indent=2).encode()
    out = scrubber.body(body)
    assert out == b'{"password":"' + STAND_IN.encode() + b'","community":"REDACTED","n":1}'


def test_form_login_body(scrubber):
    out = scrubber.body(f"username=admin&password={UNKNOWN}&client_secret=abc&grant_type=x")
    assert out == "username=admin&password=REDACTED&client_secret=REDACTED&grant_type=x"
    known = scrubber.body(f"username=admin&password={CANARY}".encode())
    assert known == f"username=admin&password={STAND_IN}".encode()
    assert_clean([out, known])


def test_types_are_kept_and_binary_round_trips(scrubber):
    assert scrubber.body(None) is None
    assert scrubber.body("") == ""
    assert scrubber.body(b"") == b""
    binary = bytes(range(256)) + CANARY.encode() + b"\xff\xfe"
    out = scrubber.body(binary)
    assert out == bytes(range(256)) + STAND_IN.encode() + b"\xff\xfe"
    assert scrubber.body(f"plain {CANARY}") == f"plain {STAND_IN}"


# -- headers -----------------------------------------------------------------------------------


def test_credential_headers_are_redacted_in_any_case(scrubber):
    headers = {
        "Authorization": "Basic YWRtaW46Y2FuYXJ5LVBhNTV3b3JkLTdmM2E=",
        "proxy-authorization": "Bearer canary-token",
        "COOKIE": 'vmware_soap_session="canary-session"',
        "vmware-api-session-id": "canary-session-id",
        "User-Agent": f"agent {CANARY}",
        "Accept": ["application/json"],
    }
    out = scrubber.headers(headers)
    assert out == {
        "Authorization": REDACTED,
        "proxy-authorization": REDACTED,
        "COOKIE": REDACTED,
        "vmware-api-session-id": REDACTED,
        "User-Agent": f"agent {STAND_IN}",
        "Accept": ["application/json"],
    }
    assert "YWRtaW" not in repr(out)
    assert_clean(out)


def test_set_cookie_keeps_names_and_attributes(scrubber):
    headers = {
        "set-cookie": [
            'vmware_soap_session="52a1canary"; Path=/; HttpOnly; Secure',
            "a=canary1; Expires=Wed, 21 Oct 2015 07:28:00 GMT, b=canary2; Path=/x",
        ],
        "Set-Cookie2": "x",
    }
    out = scrubber.headers(headers)
    assert out["set-cookie"] == [
        f"vmware_soap_session={REDACTED}; Path=/; HttpOnly; Secure",
        f"a={REDACTED}; Expires=Wed, 21 Oct 2015 07:28:00 GMT, b={REDACTED}; Path=/x",
    ]
    assert scrubber.headers({"Set-Cookie": "sid=canary"}) == {"Set-Cookie": f"sid={REDACTED}"}
    assert_clean(out)


# -- vcrpy -------------------------------------------------------------------------------------


def test_vcr_request_round_trip(scrubber):
    request = Request(
        "POST",
        f"https://mgr.example/api/admin/configuration/v1/?password={UNKNOWN}&token={CANARY}&q=1",
        json.dumps({"password": CANARY, "snmp_community": "corp-comm"}),
        {"Authorization": "Basic Y2FuYXJ5", "Content-Type": "application/json"},
    )
    out = scrubber.request(request)
    assert out is not request
    assert request.body == json.dumps({"password": CANARY, "snmp_community": "corp-comm"}).encode()
    assert out.method == "POST"
    assert out.uri == (
        f"https://mgr.example/api/admin/configuration/v1/?password={REDACTED}&token={STAND_IN}&q=1"
    )
    assert out.host == "mgr.example"
    assert json.loads(out.body) == {"password": STAND_IN, "snmp_community": REDACTED}
    assert out.headers["authorization"] == REDACTED
    assert out.headers["Content-Type"] == "application/json"
    assert_clean(out._to_dict())


def test_vcr_request_with_a_soap_body_and_no_body(scrubber):
    soap = Request(
        "POST", "https://vc/sdk", SOAP.format(password=f"<password>{CANARY}</password>"), {}
    )
    out = scrubber.request(soap)
    assert f"<password>{STAND_IN}</password>".encode() in out.body
    assert_clean(out._to_dict())
    empty = scrubber.request(Request("GET", "https://vc/sdk", None, {"Cookie": "x=canary"}))
    assert empty.body is None
    assert empty.headers["Cookie"] == REDACTED


def test_vcr_request_with_an_iterator_or_file_body_is_recorded_as_bytes(scrubber):
    chunks = iter([b"password=", CANARY.encode()])
    for body in (chunks, io.BytesIO(f"password={CANARY}".encode())):
        out = scrubber.request(Request("POST", "https://h/", body, {"Content-Length": "29"}))
        assert out.body == f"password={STAND_IN}".encode()
        assert out.headers["content-length"] == str(len(out.body))
        assert_clean(out._to_dict())


def response(body: bytes, **headers: list[str]) -> dict:
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {k.replace("_", "-"): v for k, v in headers.items()},
        "body": {"string": body},
    }


def test_vcr_response_with_a_gzip_json_body(scrubber):
    payload = json.dumps(
        {"objects": [{"password": sha1(CANARY), "snmp_community": OTHER, "key_size": 2048}]}
    ).encode()
    compressed = gzip.compress(payload)
    original = response(
        compressed,
        Content_Encoding=["gzip"],
        Content_Length=[str(len(compressed))],
        Set_Cookie=["sessionid=canary-session; Path=/"],
        Content_Type=["application/json"],
    )
    out = scrubber.response(original)
    body = out["body"]["string"]
    assert json.loads(body) == {
        "objects": [
            {"password": sha1(STAND_IN), "snmp_community": OTHER_STAND_IN, "key_size": 2048}
        ]
    }
    assert "Content-Encoding" not in out["headers"]
    assert out["headers"]["Content-Length"] == [str(len(body))]
    assert out["headers"]["Set-Cookie"] == [f"sessionid={REDACTED}; Path=/"]
    assert out["status"] == {"code": 200, "message": "OK"}
    assert original["body"]["string"] == compressed  # the live response is untouched
    assert_clean(out)


def test_vcr_response_with_a_deflate_body_in_lower_case_headers(scrubber):
    payload = f'{{"passphrase":"{UNKNOWN}"}}'.encode()
    out = scrubber.response(response(zlib.compress(payload), **{"content-encoding": ["deflate"]}))
    assert out["body"]["string"] == b'{"passphrase":"REDACTED"}'
    assert out["headers"] == {}
    assert_clean(out)


def test_vcr_response_content_length_follows_the_scrubbed_body(scrubber):
    soap = SOAP.format(password=f"<password>{UNKNOWN}</password>").encode()
    out = scrubber.response(response(soap, Content_Length=[str(len(soap))]))
    assert out["headers"]["Content-Length"] == [str(len(out["body"]["string"]))]
    assert_clean(out)


def test_vcr_response_already_decoded_by_urllib3(scrubber):
    # vcrpy 9.4 records urllib3's decoded data and keeps the Content-Encoding header.
    payload = f'{{"password":"{CANARY}"}}'.encode()
    out = scrubber.response(response(payload, Content_Encoding=["gzip"]))
    assert out["body"]["string"] == f'{{"password":"{STAND_IN}"}}'.encode()
    assert out["headers"] == {}


def test_vcr_response_with_an_unknown_encoding(scrubber):
    out = scrubber.response(response(f"plain {CANARY}".encode(), Content_Encoding=["br"]))
    assert out["body"]["string"] == f"plain {STAND_IN}".encode()
    with pytest.raises(ValueError, match="Content-Encoding"):
        scrubber.response(response(b"\x8b\xff\x00\x01", Content_Encoding=["br"]))


def test_the_factory_snmp_communities_are_kept_so_a_replay_still_sees_them():
    scrubber = Scrubber.for_secrets([("canary-Pa55word-7f3a", "stand-in-1")])
    nodes = {"objects": [{"snmp_community": "public"}, {"snmp_community": "private"}]}
    assert scrubber.json(nodes) == nodes
    assert scrubber.json({"snmp_community": "site-own"}) == {"snmp_community": "REDACTED"}


# -- vCenter's session key ---------------------------------------------------------------------

SESSION = "3e857c3f-ce5a-4ad4-b95a-94d19c525fac"
LOGIN = (
    '<?xml version="1.0"?><soapenv:Envelope><soapenv:Body><LoginResponse xmlns="urn:vim25">'
    f"<returnval><key>{SESSION}</key><userName>u</userName></returnval></LoginResponse>"
    "</soapenv:Body></soapenv:Envelope>"
)


def test_the_session_key_of_a_login_response_is_redacted(scrubber):
    out = scrubber.response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Set-Cookie": [f"vmware_soap_session={SESSION}; HttpOnly"]},
            "body": {"string": LOGIN.encode()},
        }
    )
    assert SESSION not in repr(out)
    assert b"<returnval><key>REDACTED</key><userName>u</userName>" in out["body"]["string"]


def test_a_session_cookie_repeated_in_a_body_is_redacted_and_device_keys_kept(scrubber):
    body = (
        f'<RetrieveResult><val xsi:type="UserSession"><key>{SESSION}</key></val>'
        '<val xsi:type="ArrayOfVirtualDevice"><VirtualDevice><key>2000</key></VirtualDevice>'
        f"</val><val>{SESSION[:12]}</val><other>{SESSION}</other></RetrieveResult>"
    )
    out = scrubber.response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"set-cookie": f'vmware_soap_session="{SESSION}"; Path=/'},
            "body": {"string": body},
        }
    )
    text = out["body"]["string"]
    assert SESSION not in text
    assert '<val xsi:type="UserSession"><key>REDACTED</key></val>' in text
    assert "<key>2000</key>" in text and f"<val>{SESSION[:12]}</val>" in text
