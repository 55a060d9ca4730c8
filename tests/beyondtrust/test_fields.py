"""The Create form (BT-02, BT-03): each field's rule, errors naming the field (no keys made)."""

from __future__ import annotations

import pytest
from cryptography.x509.oid import NameOID

from simulator.beyondtrust.errors import ValidationError
from simulator.beyondtrust.fields import certificate_form, is_fqdn, parse_form
from tests.beyondtrust.helpers import create_form


def error_of(**changes: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_form(create_form(**changes))
    return caught.value


def test_a_valid_form_keeps_every_field_in_order() -> None:
    form = parse_form(create_form(country="us"))
    assert form.friendly_name == "access.example.com 2030"
    assert form.key_size == 2048
    assert form.subject.country == "US"
    assert form.alternative_names == ("access.example.com", "*.example.com")
    name = form.subject.x509_name()
    assert [a.oid for a in name] == [
        NameOID.COUNTRY_NAME,
        NameOID.STATE_OR_PROVINCE_NAME,
        NameOID.LOCALITY_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.COMMON_NAME,
    ]


def test_optional_subject_fields_may_be_left_out() -> None:
    form = parse_form(create_form(state="", city=None, organization="", unit=""))
    assert [a.oid for a in form.subject.x509_name()] == [
        NameOID.COUNTRY_NAME,
        NameOID.COMMON_NAME,
    ]


@pytest.mark.parametrize("country", ["USA", "U", "1A", "U$", "", None, 12])
def test_country_is_exactly_two_letters(country: object) -> None:
    error = error_of(country=country)
    assert error.field == "country"
    assert "two letters" in error.message or "required" in error.message or "text" in error.message


@pytest.mark.parametrize("size", [1024, 2047, 8192, "2048", True, None])
def test_key_size_comes_from_the_dropdown(size: object) -> None:
    error = error_of(key_size=size)
    assert error.field == "key_size"


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_every_listed_key_size_is_accepted(size: int) -> None:
    assert parse_form(create_form(key_size=size)).key_size == size


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("friendly_name", "", "required"),
        ("friendly_name", "   ", "required"),
        ("friendly_name", "x" * 256, "at most 255"),
        ("friendly_name", "a\nb", "control"),
        ("common_name", "", "required"),
        ("common_name", "c" * 65, "at most 64"),
        ("organization", "o" * 65, "at most 64"),
        ("unit", 7, "text"),
        ("state", "s" * 129, "at most 128"),
    ],
)
def test_text_fields_name_the_field_and_reason(field: str, value: object, reason: str) -> None:
    error = error_of(**{field: value})
    assert error.field == field
    assert reason in error.message


def test_a_fully_qualified_common_name_must_be_the_first_san() -> None:
    error = error_of(
        common_name="access.example.com",
        alternative_names=["remote.example.com", "access.example.com"],
    )
    assert error.field == "alternative_names"
    assert "first subject alternative name" in error.message
    ok = parse_form(
        create_form(common_name="Access.Example.com", alternative_names=["access.example.com"])
    )
    assert ok.subject.common_name == "Access.Example.com"


def test_a_label_common_name_need_not_be_a_san() -> None:
    form = parse_form(create_form(common_name="Business Company PRA"))
    assert form.subject.common_name == "Business Company PRA"


def test_wildcard_sans_are_allowed_and_a_wildcard_cn_must_lead() -> None:
    form = parse_form(
        create_form(common_name="*.example.com", alternative_names=["*.example.com", "x.org"])
    )
    assert form.alternative_names[0] == "*.example.com"
    assert error_of(common_name="*.example.com").field == "alternative_names"


@pytest.mark.parametrize(
    ("names", "field", "reason"),
    [
        ([], "alternative_names", "at least one"),
        (None, "alternative_names", "at least one"),
        ("access.example.com", "alternative_names", "list"),
        (["access.example.com", "192.0.2.10"], "alternative_names[1]", "Technical Support"),
        (["2001:db8::1"], "alternative_names[0]", "IP addresses"),
        (["access"], "alternative_names[0]", "fully qualified"),
        (["*.com"], "alternative_names[0]", "fully qualified"),
        (["a*.example.com"], "alternative_names[0]", "leftmost label"),
        (["*.*.example.com"], "alternative_names[0]", "leftmost label"),
        (["under_score.example.com"], "alternative_names[0]", "fully qualified"),
        (["-bad.example.com"], "alternative_names[0]", "fully qualified"),
        (["a.example.com", "A.example.com"], "alternative_names[1]", "twice"),
        ([""], "alternative_names[0]", "non-empty"),
        ([5], "alternative_names[0]", "non-empty"),
        (["x.example.com"] * 101, "alternative_names", "at most 100"),
    ],
)
def test_subject_alternative_names(names: object, field: str, reason: str) -> None:
    error = error_of(alternative_names=names)
    assert error.field == field
    assert reason in error.message


def test_unknown_fields_and_non_objects_are_refused() -> None:
    assert error_of(colour="blue").field == "colour"
    with pytest.raises(ValidationError) as caught:
        parse_form(["not", "an", "object"])
    assert caught.value.field is None
    assert "JSON object" in caught.value.message


def test_python_callers_get_the_same_validation() -> None:
    form = certificate_form(
        friendly_name="f",
        key_size=2048,
        country="GB",
        common_name="label",
        alternative_names=["a.example.com"],
    )
    assert form.subject.country == "GB"
    with pytest.raises(ValidationError, match="country"):
        certificate_form(
            friendly_name="f",
            key_size=2048,
            country="GBR",
            common_name="label",
            alternative_names=["a.example.com"],
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access.example.com", True),
        ("*.example.com", True),
        ("Business Company", False),
        ("localhost", False),
        ("192.0.2.1", False),
    ],
)
def test_what_counts_as_an_fqdn(text: str, expected: bool) -> None:
    assert is_fqdn(text) is expected
