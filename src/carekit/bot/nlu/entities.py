"""Entities in a customer's message: order number, email, phone, date/time, size, amount.

Rules, not a model: these shapes are regular, and a wrong guess here is cheap to correct in the
dialogue ("is 10234 your order number?"), while a missed phone or email costs the customer a retype.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import phonenumbers

from carekit.bot.nlu.text import MAX_CHARS


@dataclass(frozen=True)
class Entity:
    kind: str  # order_number | email | phone | date | time | size | amount
    value: str  # normalized: digits, ISO date, HH:MM, size label, "<number> <currency>"
    text: str  # as written
    start: int
    end: int


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
_ORDER = re.compile(
    r"(?:заказ\w*|order|посылк\w*|№|#|номер\w*|no\.?)\s*(?:номер|number|no\.?|№|#)?\s*[:#№]?\s*(\d{4,12})\b",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"(?<![\d+\-])\b(\d{5,9})\b(?![\d\-])")
_TIME = re.compile(
    r"(?:\b(?:в|к|at|by|до|после)\s+)?\b([01]?\d|2[0-3])[:.]([0-5]\d)\b|\b(1[0-2]|0?[1-9])\s*(am|pm)\b",
    re.IGNORECASE,
)
_DATE_NUMERIC = re.compile(r"\b(0?[1-9]|[12]\d|3[01])[./](0?[1-9]|1[0-2])(?:[./](\d{2,4}))?\b")
_MONTHS = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "окт": 10, "ноя": 11, "дек": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_DATE_WORDS = re.compile(
    r"\b(0?[1-9]|[12]\d|3[01])\s+(янв|фев|мар|апр|мая|май|июн|июл|авг|сен|окт|ноя|дек|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-zа-я]*\b",
    re.IGNORECASE,
)
_RELATIVE = {
    "сегодня": 0, "today": 0, "завтра": 1, "tomorrow": 1, "послезавтра": 2,
}  # fmt: skip
_RELATIVE_RE = re.compile(r"\b(послезавтра|сегодня|завтра|today|tomorrow)\b", re.IGNORECASE)
_WEEKDAYS = {
    "понедельник": 0, "вторник": 1, "сред": 2, "четверг": 3, "пятниц": 4, "суббот": 5, "воскресень": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
_WEEKDAY_RE = re.compile(
    r"\b(понедельник|вторник|сред|четверг|пятниц|суббот|воскресень|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday)[a-zа-я]*\b",
    re.IGNORECASE,
)
_SIZE_LETTER = re.compile(r"(?<![\w])(XXS|XS|S|M|L|XL|XXL|XXXL|[2-4]XL)(?![\w])")
_SIZE_NUMBER = re.compile(r"\b(?:размер\w*|size|на)\s+(\d{1,2}(?:[.,]5)?)\b", re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?:([$€£])\s?(\d(?:[\d ]{0,9}\d)?(?:[.,]\d{1,2})?))|"
    r"(\d(?:[\d ]{0,9}\d)?(?:[.,]\d{1,2})?)\s?(руб\w*|р\.|₽|rub|usd|eur|dollars?|euros?|\$|€)",
    re.IGNORECASE,
)
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "р.": "RUB"}


def _currency(raw: str) -> str:
    raw = raw.lower()
    if raw in _CURRENCY:
        return _CURRENCY[raw]
    if raw.startswith(("руб", "rub")):
        return "RUB"
    if raw.startswith(("usd", "dollar")):
        return "USD"
    if raw.startswith(("eur", "euro")):
        return "EUR"
    return raw.upper()


def extract(text: str, *, today: date | None = None, region: str = "RU") -> list[Entity]:
    """Every entity found, in text order. `today` anchors relative dates ("завтра", "friday")."""
    text = text[:MAX_CHARS]
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: str, start: int, end: int) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(Entity(kind, value, text[start:end], start, end))

    for m in _EMAIL.finditer(text):
        add("email", m.group(0).lower(), m.start(), m.end())
    for m in _ORDER.finditer(text):
        add("order_number", m.group(1), m.start(1), m.end(1))
    for pm in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        e164 = phonenumbers.format_number(pm.number, phonenumbers.PhoneNumberFormat.E164)
        add("phone", e164, pm.start, pm.end)
    for m in _AMOUNT.finditer(text):
        if m.group(1):
            number, currency = m.group(2), _currency(m.group(1))
        else:
            number, currency = m.group(3), _currency(m.group(4))
        value = number.replace(" ", "").replace(",", ".").strip()
        add("amount", f"{value} {currency}", m.start(), m.end())
    for m in _DATE_NUMERIC.finditer(text):
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
        base = today or date.today()  # noqa: DTZ011  # a calendar date without a time has no zone
        y = int(year) + (2000 if year and len(year) == 2 else 0) if year else base.year
        try:
            add("date", date(y, month, day).isoformat(), m.start(), m.end())
        except ValueError:
            continue
    for m in _DATE_WORDS.finditer(text):
        base = today or date.today()  # noqa: DTZ011
        try:
            add(
                "date",
                date(base.year, _MONTHS[m.group(2).lower()], int(m.group(1))).isoformat(),
                m.start(),
                m.end(),
            )
        except ValueError:
            continue
    if today is not None:
        for m in _RELATIVE_RE.finditer(text):
            add(
                "date",
                (today + timedelta(days=_RELATIVE[m.group(1).lower()])).isoformat(),
                m.start(),
                m.end(),
            )
        for m in _WEEKDAY_RE.finditer(text):
            ahead = (_WEEKDAYS[m.group(1).lower()] - today.weekday()) % 7 or 7
            add("date", (today + timedelta(days=ahead)).isoformat(), m.start(), m.end())
    for m in _TIME.finditer(text):
        if m.group(1) is not None:
            value = f"{int(m.group(1)):02d}:{m.group(2)}"
            start = m.start(1)
        else:
            hour = int(m.group(3)) % 12 + (12 if m.group(4).lower() == "pm" else 0)
            value, start = f"{hour:02d}:00", m.start(3)
        add("time", value, start, m.end())
    for m in _SIZE_NUMBER.finditer(text):
        add("size", m.group(1).replace(",", "."), m.start(1), m.end(1))
    for m in _SIZE_LETTER.finditer(text):
        add("size", m.group(1).upper(), m.start(), m.end())
    for m in _BARE_NUMBER.finditer(text):
        # A lone 5-9 digit number in a support chat is, far more often than not, an order number.
        add("order_number", m.group(1), m.start(1), m.end(1))
    return sorted(found, key=lambda e: e.start)
