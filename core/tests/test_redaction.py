"""The redactor's own rules, one by one: which values it takes as secrets, the spellings of a
secret it masks, URL passwords, patterns with and without a ``secret`` group. Each is a way a
secret reaches a log line in clear if a character of the rule changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paradime import log
from paradime.redaction import Redactor, add_url_password, written_forms


@pytest.fixture
def shared() -> Iterator[Redactor]:
    """The process-wide redactor, emptied before and after."""
    log.REDACTOR.clear()
    yield log.REDACTOR
    log.REDACTOR.clear()


def test_values_of_four_characters_or_more_are_secrets_shorter_ones_and_non_text_are_not():
    redact = Redactor()
    for value in ("abc", 123456, None):
        redact.add(value)
    redact.add("wxyz")
    assert redact("abc 123456 None wxyz") == "abc 123456 None ****"


def test_every_registered_secret_is_masked_wherever_it_appears():
    redact = Redactor()
    redact.add("first-secret")
    redact.add("second-secret")
    line = "a first-secret, a second-secret and first-secret again"
    assert redact(line) == "a ****, a **** and **** again"


def test_a_url_password_is_masked_however_short_and_the_user_stays_readable():
    redact = Redactor()
    assert redact("GET https://ana:pw@db.internal/x failed") == (
        "GET https://ana:****@db.internal/x failed"
    )
    assert redact("mail ana:pw at db") == "mail ana:pw at db"


def test_a_pattern_masks_its_secret_group_or_its_whole_match():
    redact = Redactor()
    redact.add_pattern(r"Token: (?P<secret>\S+)")
    redact.add_pattern(r"key-[0-9]+")
    assert redact("Token: abc123 and key-42 here") == "Token: **** and **** here"


def test_a_secret_group_that_did_not_take_part_masks_the_whole_match():
    redact = Redactor()
    redact.add_pattern(r"id=(?:x(?P<secret>[0-9]+)|[a-z]+)")
    assert redact("id=x42 id=abc.") == "id=x**** ****."


def test_a_pattern_added_twice_masks_once_and_clear_forgets_everything():
    redact = Redactor()
    redact.add_pattern(r"Bearer (?P<secret>\S+)")
    redact.add_pattern(r"Bearer (?P<secret>\S+)")
    redact.add("long-secret")
    assert redact("Bearer x long-secret") == "Bearer **** ****"
    redact.clear()
    assert redact("Bearer x long-secret") == "Bearer x long-secret"


def test_a_url_password_given_in_an_option_is_a_secret_in_both_spellings(shared):
    add_url_password("https://ana:p%40ssw0rd@db.internal/x")
    assert shared("p%40ssw0rd or p@ssw0rd") == "**** or ****"


@pytest.mark.parametrize("value", [None, 42, "https://db.internal/x", "http://[::1@x", "ftp://a@b"])
def test_a_value_without_a_url_password_registers_nothing_and_raises_nothing(shared, value):
    add_url_password(value)
    assert shared("db.internal ana 42 None ::1") == "db.internal ana 42 None ::1"


def test_a_secret_is_masked_in_its_repr_bytes_and_json_spellings():
    assert written_forms('pa"ss\\wé') == {
        'pa"ss\\wé',
        'pa"ss\\\\wé',
        'pa"ss\\\\w\\xc3\\xa9',
        'pa"ss\\\\w\\xe9',
        'pa\\"ss\\\\wé',
        'pa\\"ss\\\\w\\u00e9',
        'pa\\"ss\\\\\\\\wé',
        'pa\\"ss\\\\\\\\w\\u00e9',
        'pa\\"ss\\\\\\\\w\\\\xc3\\\\xa9',
        'pa\\"ss\\\\\\\\w\\\\xe9',
    }


def test_a_secret_latin_1_cannot_encode_has_its_utf_8_spellings_only():
    assert written_forms("p€ss") == {
        "p€ss",
        "p\\u20acss",
        "p\\xe2\\x82\\xacss",
        "p\\\\xe2\\\\x82\\\\xacss",
    }


def test_spellings_shorter_than_four_characters_are_left_out():
    assert "é\\" not in written_forms("é\\") and "é\\\\" not in written_forms("é\\")
    assert "\\u00e9\\\\" in written_forms("é\\")
    assert written_forms("abc") == set()


def test_a_secret_group_at_the_start_of_the_line_keeps_the_rest_of_the_match():
    redact = Redactor()
    redact.add_pattern(r"(?P<secret>[a-z0-9]+)@vault")
    assert redact("abc123@vault said no") == "****@vault said no"
