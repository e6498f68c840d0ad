"""The token of a run under an idempotency key (``paradime.api.idempotency_token``), at the edges
of its length bounds and of its shortening: a provider's service refuses a token one character
off, and a token that changes with a harmless edit starts a second run."""

from __future__ import annotations

import hashlib

import pytest

from paradime.api import idempotency_token


def digest(key: str, target: str) -> str:
    return hashlib.sha256(f"{key}\n{target}".encode()).hexdigest()


def test_the_shortest_allowed_maximum_leaves_one_readable_character():
    token = idempotency_token("key", "target", max_length=18)
    assert token == f"k-{digest('key', 'target')[:16]}"


def test_a_maximum_without_room_beside_the_hash_is_refused_with_the_bound():
    with pytest.raises(ValueError, match=r"^max_length must be above 17, not 17$"):
        idempotency_token("key", "target", max_length=17)


def test_letters_at_the_ends_of_the_key_and_label_are_kept():
    token = idempotency_token("X-key-X", "/X/", max_length=80)
    assert token == f"X-key-X-X-{digest('X-key-X', '/X/')[:16]}"


@pytest.mark.parametrize("key", ["ab-cd", "ab-X"])
def test_a_cut_drops_a_dash_it_leaves_at_the_end_and_nothing_else(key):
    # Room for 3 readable characters: both cut to "ab-", whose dash goes; a cut ending on a
    # letter keeps it.
    token = idempotency_token(key, "t", max_length=20)
    assert token == f"ab-{digest(key, 't')[:16]}"
    assert idempotency_token("abX-d", "t", max_length=20) == f"abX-{digest('abX-d', 't')[:16]}"


def test_without_readable_words_the_token_is_the_hash_padded_to_the_minimum():
    token = idempotency_token("::", "//", max_length=128, min_length=32)
    assert token == digest("::", "//")[:32]


def test_the_whole_hash_is_a_reachable_minimum_and_one_more_is_refused():
    assert idempotency_token("::", "//", max_length=128, min_length=64) == digest("::", "//")
    with pytest.raises(ValueError, match=r"^min_length 65 is beyond what a token can reach$"):
        idempotency_token("::", "//", max_length=128, min_length=65)


def test_a_short_key_and_label_are_padded_with_more_hash_to_the_minimum():
    token = idempotency_token("k1", "us-east-1/etl", max_length=128, min_length=32, label="etl")
    assert token == f"k1-etl-{digest('k1', 'us-east-1/etl')[:25]}"
    assert len(token) == 32
