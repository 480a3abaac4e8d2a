"""Normalization of contact values and typed attributes. Pure functions: no database access.

Every error is a `InvalidValue` naming the field, so the API and the importer can report it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from carekit.customers.enums import AttributeType, IdentityKind
from carekit.customers.errors import InvalidValue


def email(value: str, *, field: str = "email") -> str:
    value = (value or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidValue(_("This is not a valid email address."), field=field) from None
    return value


_SEPARATORS = re.compile(r"[\s().\-]")
_DIGITS = re.compile(r"^\+?\d{6,17}$")


@functools.lru_cache(maxsize=256)
def _region_prefixes(region: str) -> tuple[int, str]:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (phonenumbers.country_code_for_region(region), (meta.national_prefix or "") if meta else "")


def _fast_phone(raw: str, region: str) -> str | None:
    """The common shapes (+<cc><number>, <trunk prefix><number> of the default region) without the
    full parser, which costs most of an import's normalization time. None: use the full parser."""
    cleaned = _SEPARATORS.sub("", raw)
    if not _DIGITS.match(cleaned):
        return None
    cc, trunk = _region_prefixes(region)
    if cleaned.startswith(f"+{cc}"):
        national = cleaned[len(str(cc)) + 1 :]
    elif trunk and not cleaned.startswith("+") and cleaned.startswith(trunk):
        national = cleaned[len(trunk) :]
    else:
        return None
    if not national or national.startswith("0"):  # leading zeros need the parser's care
        return None
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(national))
    if not phonenumbers.is_valid_number(number):
        return None
    return f"+{cc}{national}"


def phone(value: str, *, region: str, field: str = "phone") -> str:
    """E.164 with the workspace's default region for numbers written without a country code."""
    raw = (value or "").strip()
    fast = _fast_phone(raw, region)
    if fast is not None:
        return fast
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(_("This is not a valid phone number."), field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue(_("This is not a valid phone number."), field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_OPAQUE_RE = re.compile(r"^[\w.:@+\-]{1,254}$")


def identity(kind: str, value: str, *, region: str, field: str = "value") -> tuple[str, str]:
    try:
        kind = IdentityKind(kind)
    except ValueError:
        raise InvalidValue(_("Unknown identity kind."), field="kind") from None
    if kind == IdentityKind.EMAIL:
        return kind, email(value, field=field)
    if kind == IdentityKind.PHONE:
        return kind, phone(value, region=region, field=field)
    value = (value or "").strip()
    if not _OPAQUE_RE.match(value):
        raise InvalidValue(_("This identity value is not valid."), field=field)
    return kind, value


def attribute(defn_type: str, choices: list[str], value: Any, *, field: str) -> Any:
    """A JSON-safe value of the attribute's type, or InvalidValue. Dates are stored as ISO strings."""
    if value is None:
        return None
    if defn_type == AttributeType.TEXT:
        if not isinstance(value, str):
            raise InvalidValue(_("Expected text."), field=field)
        return value[:1000]
    if defn_type == AttributeType.NUMBER:
        if isinstance(value, bool):
            raise InvalidValue(_("Expected a number."), field=field)
        if isinstance(value, int | float):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidValue(_("Expected a number."), field=field) from None
        if not number.is_finite():
            raise InvalidValue(_("Expected a number."), field=field)
        return int(number) if number == number.to_integral_value() else float(number)
    if defn_type == AttributeType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise InvalidValue(_("Expected a date (YYYY-MM-DD)."), field=field) from None
    if defn_type == AttributeType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "да"}:
            return True
        if text in {"false", "0", "no", "нет"}:
            return False
        raise InvalidValue(_("Expected yes or no."), field=field)
    if defn_type == AttributeType.CHOICE:
        if str(value) not in choices:
            raise InvalidValue(_("Not one of the allowed choices."), field=field)
        return str(value)
    raise InvalidValue(_("Unknown attribute type."), field=field)


def attributes(definitions: Mapping[str, tuple[str, list[str]]], values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate custom attributes against the workspace's definitions (key -> (type, choices))."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        field = f"attributes.{key}"
        if key not in definitions:
            raise InvalidValue(_("Unknown attribute."), field=field)
        type_, choices = definitions[key]
        out[key] = attribute(type_, choices, value, field=field)
    return out


def tags(values: list[str]) -> list[str]:
    return sorted({t.strip().lower()[:50] for t in values if t and t.strip()})


# --- names: Russian/English transliteration for matching ------------------------------------------

_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_LATIN = [
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p",
    "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "_", "y", "_", "e", "iu", "ia",
]  # fmt: skip
_RU_LAT = {c: ("" if lat == "_" else lat) for c, lat in zip(_CYRILLIC, _LATIN, strict=True)}

# Spelling variants of the same Russian sound in Latin script collapse to one key
# (Yuri/Iurii/Jurij, Aleksandr/Alexander, Natalya/Nataliia).
_LATIN_FOLD = [
    ("shch", "sch"), ("x", "ks"), ("yu", "iu"), ("ju", "iu"), ("ya", "ia"), ("ja", "ia"),
    ("yo", "e"), ("kh", "h"), ("ts", "c"), ("tz", "c"), ("w", "v"), ("y", "i"), ("j", "i"),
    ("ii", "i"), ("ie", "e"),
]  # fmt: skip
_NON_ALPHA = re.compile(r"[^a-z]")


def name_key(text: str) -> str:
    """A script-neutral, spelling-tolerant key of a name: 'Юрий' and 'Yuriy' give the same key."""
    lowered = (text or "").strip().lower()
    latin = "".join(_RU_LAT.get(ch, ch) for ch in lowered)
    latin = _NON_ALPHA.sub("", latin)
    for src, dst in _LATIN_FOLD:
        latin = latin.replace(src, dst)
    out: list[str] = []
    for ch in latin:  # doubled letters are a common transliteration difference
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)
