from __future__ import annotations

import phonenumbers
import pytest

from carekit.customers import normalize

pytestmark = [pytest.mark.sqlite]

SAMPLES = [
    ("8 (912) 345-67-89", "RU"),
    ("+7 912 345 67 89", "RU"),
    ("89123456789", "RU"),
    ("+79123456789", "DE"),
    ("912 345 67 89", "RU"),
    ("+44 20 7946 0958", "RU"),
    ("020 7946 0958", "GB"),
    ("+39 06 6982 1234", "RU"),
    ("06 6982 1234", "IT"),
    ("(415) 555-2671", "US"),
    ("1-415-555-2671", "US"),
    ("+1 415 555 2671", "US"),
    ("8 800 555 35 35", "RU"),
    ("8 (000) 000-00-00", "RU"),
    ("+7 12", "RU"),
    ("call me", "RU"),
]


def _full(raw: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(("raw", "region"), SAMPLES)
def test_fast_path_agrees_with_the_full_parser(raw, region):
    expected = _full(raw, region)
    if expected is None:
        with pytest.raises(normalize.InvalidValue):
            normalize.phone(raw, region=region)
    else:
        assert normalize.phone(raw, region=region) == expected


def test_emails_are_lower_cased_and_validated():
    assert normalize.email(" Anna@Example.COM ") == "anna@example.com"
    with pytest.raises(normalize.InvalidValue):
        normalize.email("anna@@example.com")
