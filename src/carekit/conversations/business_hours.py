"""Business-time arithmetic over a calendar: working hours per weekday in the calendar's time zone,
minus holidays. SLA targets are business seconds; these two functions turn them into instants."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366  # a calendar with no working time would otherwise loop forever


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    hours: Mapping[str, Sequence[Sequence[str]]]  # {"0": [["09:00", "19:00"]]}, 0 = Monday
    holidays: frozenset[date]

    @classmethod
    def always(cls) -> Calendar:
        return cls("UTC", {str(d): [["00:00", "24:00"]] for d in range(7)}, frozenset())

    @classmethod
    def of(
        cls, time_zone: str, hours: Mapping[str, Sequence[Sequence[str]]], holidays: Sequence[str]
    ) -> Calendar:
        return cls(time_zone, hours, frozenset(date.fromisoformat(h) for h in holidays))


def _parse(hhmm: str) -> timedelta:
    h, m = hhmm.split(":")
    return timedelta(hours=int(h), minutes=int(m))


def _spans(cal: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working spans (aware datetimes) from the local day of `start` onwards, in order."""
    tz = ZoneInfo(cal.time_zone)
    day = start.astimezone(tz).date()
    for _ in range(MAX_DAYS):
        if day not in cal.holidays:
            for opening, closing in sorted(cal.hours.get(str(day.weekday()), []), key=lambda s: s[0]):
                midnight = datetime.combine(day, time(0), tzinfo=tz)
                # wall-clock arithmetic inside the local day, then back to an aware instant
                a = (midnight.replace(tzinfo=None) + _parse(opening)).replace(tzinfo=tz)
                b = (midnight.replace(tzinfo=None) + _parse(closing)).replace(tzinfo=tz)
                yield a, b
        day += timedelta(days=1)


def add_business_seconds(cal: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant when `seconds` of working time have passed after `start`."""
    remaining = timedelta(seconds=seconds)
    for a, b in _spans(cal, start):
        if b <= start:
            continue
        a = max(a, start)
        if a + remaining <= b:
            return a + remaining
        remaining -= b - a
    raise ValueError("the calendar has no working time in the next three years")


def business_seconds_between(cal: Calendar, start: datetime, end: datetime) -> int:
    if end <= start:
        return 0
    total = timedelta()
    for a, b in _spans(cal, start):
        if a >= end:
            break
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += hi - lo
    return int(total.total_seconds())
