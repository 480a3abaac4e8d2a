"""Scenario jobs (thin): resume a waiting run, send a message, and the safety sweep for both."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carekit.core.jobs import periodic, task
from carekit.scenarios import runtime, sending


def resume_due(*, now: datetime | None = None) -> int:
    """Wake every run whose wait is due (each in its own transaction); the sweep and tests call this."""
    now = now or timezone.now()
    woken = 0
    for pk in runtime.due_runs(now):
        with transaction.atomic(durable=True):
            woken += runtime.resume_run(pk, seq=None, now=now)
    return woken


def send_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(1 for pk in sending.due_messages(now) if sending.send_one(pk, now=now))


@task()
def resume_run(run_pk: int, seq: int) -> None:
    with transaction.atomic(durable=True):
        runtime.resume_run(run_pk, seq=seq, now=timezone.now())


@task(retries=3, retry_delay=30)
def send_message(message_pk: int) -> None:
    sending.send_one(message_pk, now=timezone.now())


@periodic(minute="*", description="wake due scenario waits and send due messages that lost their job")
def sweep_scenarios() -> None:
    resume_due()
    send_due()
