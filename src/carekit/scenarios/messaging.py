"""Rules for every message a scenario sends (ARCHITECTURE.md rule 11): consent, quiet hours in the
customer's time zone (else the workspace's), frequency caps by class. Pure decisions: the live and the
dry-run drivers give them their own counts, so both decide alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from carekit.core.outbound import MessageClass

QUIET_HOURS = (21, 9)  # local [21:00, 09:00): service and marketing wait; replies never do
CAP_WINDOW = timedelta(hours=24)
FREQUENCY_CAPS: dict[str, int] = {MessageClass.MARKETING: 1, MessageClass.SERVICE: 5}  # replies: none


@dataclass(frozen=True)
class Decision:
    outcome: str  # send | held | blocked | capped
    due_at: datetime | None = None
    reason: str = ""


def in_quiet_hours(at: datetime, tz: ZoneInfo, quiet: tuple[int, int] = QUIET_HOURS) -> bool:
    hour = at.astimezone(tz).hour
    start, end = quiet
    return hour >= start or hour < end if start > end else start <= hour < end


def next_allowed(at: datetime, tz: ZoneInfo, quiet: tuple[int, int] = QUIET_HOURS) -> datetime:
    """The first minute after quiet hours end, in the customer's zone."""
    local = at.astimezone(tz)
    end = datetime.combine(local.date(), time(quiet[1]), tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), time(quiet[1]), tzinfo=tz)
    return end


def decide(
    *,
    message_class: str,
    consent: bool,
    sent_in_window: int,
    at: datetime,
    tz: ZoneInfo,
    quiet: tuple[int, int] = QUIET_HOURS,
) -> Decision:
    if not consent:
        return Decision("blocked", reason=f"no consent for {message_class}")
    cap = FREQUENCY_CAPS.get(message_class)
    if cap is not None and sent_in_window >= cap:
        return Decision("capped", reason=f"{message_class} cap of {cap} per 24 h reached")
    if message_class != MessageClass.REPLY and in_quiet_hours(at, tz, quiet):
        return Decision("held", due_at=next_allowed(at, tz, quiet), reason="quiet hours")
    return Decision("send")
