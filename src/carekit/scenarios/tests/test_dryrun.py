"""Dry-run on history: a hand-countable seeded week, and dry-run == a real run on the same events."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from carekit.core.events import Actor, emit
from carekit.loyalty.models import Compensation
from carekit.scenarios import dryrun, tasks
from carekit.scenarios.library import EXCHANGE_ACCEPTED
from carekit.scenarios.models import Run, ScenarioMessage
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import emit_at
from carekit.testing.tenants import make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SEED = 20261123  # exercises every path: big, accepted, timed out, still waiting
NOW = datetime(2027, 3, 9, 0, 0, tzinfo=UTC)
DAYS = 7
DRY = {
    "schema": 1,
    "trigger": {
        "event": "customers.order.returned",
        "when": [{"var": "event.reason", "op": "eq", "value": "defect"}],
    },
    "reentry": "always",
    "start": "size",
    "steps": {
        "size": {
            "type": "condition",
            "else": "wait_x",
            "cases": [
                {"name": "big", "when": [{"var": "event.amount", "op": "gt", "value": 1000}], "next": "grant"}
            ],
        },
        "grant": {
            "type": "action",
            "action": "loyalty.grant",
            "params": {"points": 100, "reason": "defect"},
            "next": "end",
        },
        "wait_x": {
            "type": "wait",
            "event": EXCHANGE_ACCEPTED,
            "timeout": "48h",
            "next": "tag",
            "on_timeout": "end",
            "when": [{"var": "last_event.order_id", "op": "eq", "ref": "event.order_id"}],
        },
        "tag": {"type": "action", "action": "customer.tag", "params": {"tag": "exchanged"}, "next": "end"},
    },
}


def seeded_week() -> tuple[list[tuple[str, dict, datetime]], dict]:
    """The events of the week and, derived from the same draws, what the dry-run must count."""
    rng = random.Random(SEED)
    since = NOW - timedelta(days=DAYS)
    events: list[tuple[str, dict, datetime]] = []
    want = {"entries": 0, "big": 0, "small": 0, "accepted": 0, "timeout": 0, "waiting": 0}
    # One defect return before the window: replay must not see it.
    events.append(
        (
            "customers.order.returned",
            {"order_id": "ord_old", "customer_id": "cus_old", "reason": "defect", "amount": "1500"},
            since - timedelta(hours=1),
        )
    )
    for i in range(60):
        at = since + timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        reason = rng.choice(["defect", "wrong_size", "changed_mind"])
        amount = rng.choice(["500.00", "1500.00"])
        accept = rng.choice([None, 10, 60])  # hours after the return, or never
        cid, oid = f"cus_seed{i:03d}", f"ord_seed{i:03d}"
        events.append(
            (
                "customers.order.returned",
                {"order_id": oid, "customer_id": cid, "reason": reason, "amount": amount},
                at,
            )
        )
        if accept is not None and at + timedelta(hours=accept) <= NOW:
            events.append(
                (EXCHANGE_ACCEPTED, {"customer_id": cid, "order_id": oid}, at + timedelta(hours=accept))
            )
        events.append(
            (
                "customers.order.status_changed",
                {"order_id": oid, "customer_id": cid, "to": "paid"},
                at + timedelta(minutes=1),
            )
        )
        if reason != "defect":
            continue
        want["entries"] += 1
        if amount == "1500.00":
            want["big"] += 1
        else:
            want["small"] += 1
            if accept == 10:
                want["accepted"] += 1
            elif at + timedelta(hours=48) <= NOW:
                want["timeout"] += 1
            else:
                want["waiting"] += 1
    events.sort(key=lambda e: e[2])
    return events, want


def _store(ws, events) -> None:
    with transaction.atomic():
        for type_, payload, at in events:
            emit(
                workspace_id=ws.pk,
                type=type_,
                subject_type="order",
                subject_id=payload["order_id"],
                actor=Actor.system("seed"),
                payload=payload,
                occurred_at=at,
            )


def test_seeded_week_counts_match_the_seed(workspace):
    events, want = seeded_week()
    _store(workspace, events)
    assert min(want.values()) > 0  # the seed exercises every path
    report = dryrun.dry_run(workspace_id=workspace.pk, definition=DRY, days=DAYS, now=NOW)
    assert report.events_read == len(events) - 1
    assert report.entries == want["entries"]
    assert dict(report.branches["size"]) == {"big": want["big"], "else": want["small"]}
    assert dict(report.branches["wait_x"]) == {
        k: v for k, v in (("next", want["accepted"]), ("timeout", want["timeout"])) if v
    }
    assert dict(report.actions["grant:loyalty.grant"]) == {"would_fire": want["big"]}
    assert dict(report.actions["tag:customer.tag"]) == {"done": want["accepted"]}
    assert report.statuses == Counter(
        {"completed": want["big"] + want["accepted"] + want["timeout"], "waiting": want["waiting"]}
    )
    # Nothing happened for real.
    assert Run.objects.count() == ScenarioMessage.objects.count() == Compensation.objects.count() == 0


def _fired(counter) -> dict[str, int]:
    return {k: sum(v.values()) for k, v in counter.items()}


def test_dry_run_equals_a_real_run_on_the_same_events(workspace, django_capture_on_commit_callbacks):
    events, _ = seeded_week()
    _store(workspace, events)
    dry = dryrun.dry_run(workspace_id=workspace.pk, definition=DRY, days=DAYS, now=NOW)

    fresh = make_workspace("Fresh")
    scenario = factories.published(fresh, DRY)
    since = NOW - timedelta(days=DAYS)
    for type_, payload, at in events:
        if at < since:
            continue
        tasks.resume_due(now=at)
        emit_at(fresh, django_capture_on_commit_callbacks, type_, payload, at)
    tasks.resume_due(now=NOW)

    live = dryrun.DryRunReport(since, NOW)
    steps = {sid: s.get("action", "") for sid, s in DRY["steps"].items()}
    for run in Run.objects.filter(scenario=scenario).order_by("id"):
        live.entries += 1
        live.statuses[run.status] += 1
        trace = [
            dryrun.TraceEntry(t.seq, t.step, t.kind, t.at, t.outcome, t.branch, t.detail)
            for t in run.trace.order_by("seq")
        ]
        dryrun.tally(live, trace, actions_by_step=steps, run_id=run.public_id)
    assert live.entries == dry.entries
    assert {k: dict(v) for k, v in live.branches.items()} == {k: dict(v) for k, v in dry.branches.items()}
    assert _fired(live.actions) == _fired(dry.actions)
    assert live.statuses == dry.statuses
    assert (
        Compensation.objects.filter(workspace_id=fresh.pk).count()
        == _fired(dry.actions)["grant:loyalty.grant"]
    )
