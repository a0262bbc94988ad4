"""The fast path for whole numbers must print exactly what Babel prints."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal

from web import formatting

VALUES = [0, 7, -7, 999, 1000, -1000, 12345, 999_999, 1_000_000, -1_234_567, 10**15 + 3]


@pytest.mark.parametrize("locale", ["id", "en", "de", "fr", "hi", "en_IN"])
def test_whole_numbers_match_babel(locale: str) -> None:
    for v in VALUES:
        assert formatting.number(v, locale) == format_decimal(v, locale=locale), v


def test_indonesian_grouping_and_fractions() -> None:
    assert formatting.number(1234567, "id") == "1.234.567"
    assert formatting.number(1234567, "en") == "1,234,567"
    assert formatting.number(1234.5, "id") == "1.234,5"
    assert formatting.number(Decimal("1234"), "id") == "1.234"  # not an int: Babel formats it


def test_fast_path_only_for_plain_grouping() -> None:
    assert formatting._plain_grouping("id") == (".", "-")
    # Indian grouping (12,34,567) is not threes: Babel must format it.
    assert formatting._plain_grouping("en_IN") is None
    assert formatting.number(1234567, "en_IN") == "12,34,567"
