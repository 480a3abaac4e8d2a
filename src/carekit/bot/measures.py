"""The bot's measures, from its own dialogue and turn rows (no raw-event scans): containment, hand-off
rate and reasons, fallback rate, operator load saved, per day for the charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carekit.bot.enums import DialogueState
from carekit.bot.handlers import REOPEN_WINDOW
from carekit.bot.models import Dialogue, Turn

CHART_W, CHART_H = 560, 160


@dataclass(frozen=True)
class Day:
    day: str
    dialogues: int
    contained: int
    handed_off: int


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


def measures(workspace_id: int, *, days: int = 14, now: datetime | None = None) -> dict:
    """Containment: resolved by the bot, never handed to a person, not reopened within 72 hours;
    `pending_window` of them are younger than 72 hours and may still be reopened."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in Dialogue.objects.filter(workspace_id=workspace_id, created_at__gte=since).values(
            "created_at",
            "state",
            "resolved_by_bot",
            "reopened",
            "handed_off_at",
            "resolved_at",
            "handoff_reason",
        )
    ]
    total = len(rows)

    def contained(r: dict[str, Any]) -> bool:
        return r["state"] == DialogueState.RESOLVED and bool(r["resolved_by_bot"]) and not r["reopened"]

    n_contained = sum(contained(r) for r in rows)
    pending = sum(
        contained(r) and r["resolved_at"] is not None and r["resolved_at"] > now - REOPEN_WINDOW for r in rows
    )
    handed = [r for r in rows if r["handed_off_at"] is not None]
    reasons: dict[str, int] = {}
    for r in handed:
        reasons[r["handoff_reason"]] = reasons.get(r["handoff_reason"], 0) + 1
    turns = Turn.objects.filter(workspace_id=workspace_id, created_at__gte=since)
    by_decision = dict(turns.values_list("decision").annotate(n=Count("id")).values_list("decision", "n"))
    n_turns = sum(by_decision.values())
    series: list[Day] = []
    for i in range(days - 1, -1, -1):
        day = timezone.localtime(now - timedelta(days=i)).date()
        of_day = [r for r in rows if timezone.localtime(r["created_at"]).date() == day]
        series.append(
            Day(
                day.strftime("%d.%m"),
                len(of_day),
                sum(contained(r) for r in of_day),
                sum(r["handed_off_at"] is not None for r in of_day),
            )
        )
    return {
        "dialogues": total,
        "contained": n_contained,
        "pending_window": pending,
        "containment": _share(n_contained, total),
        "handed_off": len(handed),
        "handoff_rate": _share(len(handed), total),
        "handoff_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "turns": n_turns,
        "fallbacks": by_decision.get("clarify", 0),
        "fallback_rate": _share(by_decision.get("clarify", 0), n_turns),
        # Conversations no person had to open: the operator load the bot took away.
        "operator_load_saved": _share(total - len(handed), total),
        "series": series,
    }


def day_bars(series: list[Day]) -> list[dict]:
    """Grouped bars per day (dialogues, contained, handed off) as SVG coordinates."""
    peak = max((d.dialogues for d in series), default=0) or 1
    slot = CHART_W / max(len(series), 1)
    bar = max(slot / 4, 2)
    out = []
    for i, d in enumerate(series):
        x = i * slot + 4
        cols = []
        for j, (value, css) in enumerate(((d.dialogues, "all"), (d.contained, "ok"), (d.handed_off, "ho"))):
            h = round((CHART_H - 20) * value / peak)
            cols.append(
                {
                    "x": round(x + j * bar, 1),
                    "y": CHART_H - 20 - h,
                    "h": h,
                    "w": round(bar - 1, 1),
                    "css": css,
                    "value": value,
                }
            )
        out.append({"day": d.day, "x": round(x, 1), "cols": cols})
    return out


REASON_LABELS = {
    "requested": _("Asked for a person"),
    "negative_sentiment": _("Upset customer"),
    "human_only": _("Needs a person (complaint)"),
    "misunderstood": _("Not understood twice"),
    "low_confidence": _("Low confidence twice"),
    "not_helped": _("Answer did not help"),
    "after_hours": _("Outside business hours"),
}


def reason_bars(reasons: dict[str, int]) -> list[dict]:
    peak = max(reasons.values(), default=0) or 1
    return [
        {"reason": r, "label": REASON_LABELS.get(r, r), "n": n, "w": round(300 * n / peak), "y": i * 26}
        for i, (r, n) in enumerate(reasons.items())
    ]
