"""Signed tokens: round trip, every way a token can be bad, and the e-mail local-part limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbt_alert.errors import TbtAlertError
from tbt_alert.tokens import MAX_AGE, TOKEN_LENGTH, Purpose, TokenError, make_token, read_token

SECRET = "a-test-secret-of-sufficient-length"
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_round_trip_keeps_purpose_subscriber_reference_and_time():
    token = make_token(SECRET, Purpose.REPLY, 42, ref_id=1097, now=NOW)
    read = read_token(SECRET, token, Purpose.REPLY, now=NOW + timedelta(days=1))
    assert (read.purpose, read.subscriber_id, read.ref_id, read.issued_at) == (
        Purpose.REPLY,
        42,
        1097,
        NOW,
    )


def test_token_fits_an_email_local_part_and_survives_case_changes():
    token = make_token(SECRET, Purpose.REPLY, 2**32 - 1, ref_id=2**32 - 1, now=NOW)
    assert len(token) == TOKEN_LENGTH and len(f"reply+{token}") <= 64
    assert token == token.lower() and token.isalnum()
    assert read_token(SECRET, token.upper(), Purpose.REPLY, now=NOW).subscriber_id == 2**32 - 1


def test_the_address_is_never_in_the_token():
    token = make_token(SECRET, Purpose.UNSUBSCRIBE, 7, now=NOW)
    assert "@" not in token and "example" not in token


@pytest.mark.parametrize("purpose", list(Purpose))
def test_wrong_purpose_is_refused_by_name(purpose):
    other = Purpose.CONFIRM if purpose != Purpose.CONFIRM else Purpose.UNSUBSCRIBE
    token = make_token(SECRET, purpose, 5, now=NOW)
    with pytest.raises(TokenError) as e:
        read_token(SECRET, token, other, now=NOW)
    assert e.value.reason == "wrong_purpose"


def test_another_key_is_forged():
    token = make_token("another-secret-key-1234", Purpose.CONFIRM, 5, now=NOW)
    with pytest.raises(TokenError) as e:
        read_token(SECRET, token, Purpose.CONFIRM, now=NOW)
    assert e.value.reason == "forged"


def test_changing_any_character_is_detected():
    token = make_token(SECRET, Purpose.PREFERENCES, 5, now=NOW)
    for i in range(len(token)):
        flipped = token[:i] + ("a" if token[i] != "a" else "b") + token[i + 1 :]
        with pytest.raises(TokenError) as e:
            read_token(SECRET, flipped, Purpose.PREFERENCES, now=NOW)
        assert e.value.reason in {"forged", "malformed", "wrong_purpose"}


@pytest.mark.parametrize("purpose", list(Purpose))
def test_expiry_per_purpose(purpose):
    token = make_token(SECRET, purpose, 5, now=NOW)
    assert read_token(SECRET, token, purpose, now=NOW + MAX_AGE[purpose]).subscriber_id == 5
    with pytest.raises(TokenError) as e:
        read_token(SECRET, token, purpose, now=NOW + MAX_AGE[purpose] + timedelta(seconds=1))
    assert e.value.reason == "expired"


def test_only_the_canonical_spelling_is_accepted():
    token = make_token(SECRET, Purpose.CONFIRM, 5, now=NOW)
    last = "abcdefghijklmnopqrstuvwxyz234567"
    variants = [token[:-1] + c for c in last if c != token[-1]]
    for variant in variants:  # the last character carries two unused bits
        with pytest.raises(TokenError):
            read_token(SECRET, variant, Purpose.CONFIRM, now=NOW)


def test_future_token_is_refused():
    token = make_token(SECRET, Purpose.CONFIRM, 5, now=NOW + timedelta(hours=1))
    with pytest.raises(TokenError):
        read_token(SECRET, token, Purpose.CONFIRM, now=NOW)


def test_short_secret_is_refused():
    with pytest.raises(TbtAlertError, match="at least 16"):
        make_token("short", Purpose.CONFIRM, 1, now=NOW)


@given(st.text(max_size=80))
def test_arbitrary_text_never_passes_and_never_crashes(text):
    with pytest.raises(TokenError):
        read_token(SECRET, text, Purpose.UNSUBSCRIBE, now=NOW)
