"""Running deliveries: claim with a lease, run handler + mark done atomically, retry, dead-letter, sweep."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from carekit.core.events.registry import get_handler
from carekit.core.models import DeliveryStatus, EventDelivery

logger = logging.getLogger(__name__)

CHUNK = 200


_STATUS_NAMES = {DeliveryStatus.DONE: "done", DeliveryStatus.PENDING: "retry", DeliveryStatus.DEAD: "dead"}


class LeaseLost(Exception):
    """Another worker took this delivery over (our lease expired); our transaction must roll back."""


def enqueue_deliveries(ids: Iterable[int], *, delay: float | None = None) -> None:
    from carekit.core.tasks import process_deliveries

    batch = list(ids)
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start : start + CHUNK]
        if delay:
            process_deliveries.schedule((chunk,), delay=delay)
        else:
            process_deliveries(chunk)


WAKE_KEY = "carekit:deliveries:wake"
MAX_DRAIN_BATCHES = 50


WAKE_STALE_SECONDS = 5.0


def wake_workers() -> None:
    """Make sure a drain job is queued: committed deliveries need a worker's attention.

    Many commits between two drains enqueue one job, not one each: the flag (the time it was set) is
    written only if empty, and the drain job clears it before it starts claiming, so a commit that
    lands while a drain runs queues the next one. A flag older than WAKE_STALE_SECONDS means its job
    is stuck behind a long queue or was lost with a killed worker: queue another rather than wait.
    """
    from carekit.core.jobs import huey
    from carekit.core.tasks import drain_deliveries

    now = time.time()
    if huey.put_if_empty(WAKE_KEY, now):
        drain_deliveries()
        return
    since = huey.get(WAKE_KEY, peek=True)
    if since is None or now - float(since) > WAKE_STALE_SECONDS:
        huey.put(WAKE_KEY, now)
        drain_deliveries()


def drain() -> int:
    """Claim and run due deliveries in batches until none are left; returns how many ran."""
    from carekit.core.jobs import huey

    huey.delete(WAKE_KEY)
    total = 0
    for _ in range(MAX_DRAIN_BATCHES):
        ran = sum(process([]).values())
        total += ran
        if ran == 0:
            return total
    wake_workers()  # a long backlog: hand the rest to the next job so others get a turn
    return total


def backoff_seconds(attempts: int) -> float:
    return float(settings.EVENT_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0)))


def claim(
    ids: Iterable[int], *, now: datetime | None = None, extra: int = 0
) -> tuple[uuid.UUID, list[EventDelivery]]:
    """Lease the due, pending deliveries among `ids`, plus up to `extra` other due ones (oldest first).

    Taking extra work while claiming lets one job drain a backlog in batches; the jobs enqueued for
    those deliveries then find nothing to claim. Returns the lease token and what was claimed.
    """
    now = now or timezone.now()
    token = uuid.uuid4()
    wanted = list(ids)
    with transaction.atomic(durable=True):
        if extra > 0:
            wanted += list(
                EventDelivery.objects.select_for_update(skip_locked=True)
                .filter(status=DeliveryStatus.PENDING, available_at__lte=now)
                .exclude(id__in=wanted)
                .order_by("available_at")
                .values_list("id", flat=True)[:extra]
            )
        EventDelivery.objects.filter(
            id__in=wanted, status=DeliveryStatus.PENDING, available_at__lte=now
        ).update(
            status=DeliveryStatus.RUNNING,
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=settings.EVENT_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    claimed = list(EventDelivery.objects.filter(lease_token=token).select_related("event").order_by("id"))
    return token, claimed


class _HandlerFailed(Exception):
    def __init__(self, delivery: EventDelivery, error: Exception) -> None:
        super().__init__(str(error))
        self.delivery = delivery
        self.error = error


def run_batch(claimed: list[EventDelivery], token: uuid.UUID) -> dict[str, int]:
    """Run claimed deliveries together: one transaction for the handlers' effects and the done marks.

    When a handler fails, the transaction rolls back, that delivery's failure is recorded, and the
    rest run again without it: every handler runs once per attempt, and a failing handler never
    undoes or repeats its batch mates' effects.
    """
    counts = {"done": 0, "retry": 0, "dead": 0, "lost": 0}
    remaining = list(claimed)
    while remaining:
        try:
            with transaction.atomic(durable=True):
                for delivery in remaining:
                    info = get_handler(delivery.handler)
                    try:
                        if info is None:
                            raise LookupError(f"no handler named {delivery.handler!r} is registered")
                        info.func(delivery.event)
                    except Exception as exc:  # the failing delivery must be known
                        raise _HandlerFailed(delivery, exc) from exc
                marked = EventDelivery.objects.filter(
                    id__in=[d.pk for d in remaining], lease_token=token, status=DeliveryStatus.RUNNING
                ).update(
                    status=DeliveryStatus.DONE, completed_at=timezone.now(), lease_token=None, last_error=""
                )
                if marked != len(remaining):
                    raise LeaseLost(token)
        except _HandlerFailed as failure:
            status = _record_failure(failure.delivery, token, failure.error)
            counts[_STATUS_NAMES[status] if status else "lost"] += 1
            remaining = [d for d in remaining if d.pk != failure.delivery.pk]
            continue
        except LeaseLost:
            # Some were taken over after our lease expired; settle the rest one by one.
            for delivery in remaining:
                status = run_one(delivery, token)
                counts[_STATUS_NAMES[status] if status else "lost"] += 1
            return counts
        counts["done"] += len(remaining)
        return counts
    return counts


def run_one(delivery: EventDelivery, token: uuid.UUID) -> DeliveryStatus | None:
    """Run one claimed delivery. Returns its new status, or None if the lease was lost."""
    info = get_handler(delivery.handler)
    try:
        with transaction.atomic(durable=True):
            if info is None:
                raise LookupError(f"no handler named {delivery.handler!r} is registered")
            info.func(delivery.event)
            marked = EventDelivery.objects.filter(
                id=delivery.pk, lease_token=token, status=DeliveryStatus.RUNNING
            ).update(status=DeliveryStatus.DONE, completed_at=timezone.now(), lease_token=None, last_error="")
            if marked != 1:
                raise LeaseLost(delivery.pk)
    except LeaseLost:
        logger.warning("delivery %s lost its lease; its effects were rolled back", delivery.pk)
        return None
    except Exception as exc:  # any handler failure is retried; the error text is kept for operators
        return _record_failure(delivery, token, exc)
    return DeliveryStatus.DONE


def _record_failure(delivery: EventDelivery, token: uuid.UUID, exc: Exception) -> DeliveryStatus | None:
    dead = delivery.attempts >= settings.EVENT_MAX_ATTEMPTS
    status = DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING
    delay = backoff_seconds(delivery.attempts)
    with transaction.atomic(durable=True):
        updated = EventDelivery.objects.filter(id=delivery.pk, lease_token=token).update(
            status=status,
            lease_token=None,
            lease_expires_at=None,
            available_at=timezone.now() + timedelta(seconds=delay),
            last_error=f"{type(exc).__name__}: {exc}"[:4000],
        )
    if not updated:
        return None
    logger.warning(
        "delivery %s (%s) failed attempt %s: %s", delivery.pk, delivery.handler, delivery.attempts, exc
    )
    if not dead:
        enqueue_deliveries([delivery.pk], delay=delay)
    return status


BATCH = 100


def process(ids: Iterable[int]) -> dict[str, int]:
    """Claim and run deliveries (the body of the delivery jobs).

    Claims the given ids and, to drain backlogs, up to BATCH other due deliveries.
    """
    wanted = list(ids)
    token, claimed = claim(wanted, extra=max(BATCH - len(wanted), 0))
    return run_batch(claimed, token)


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recover work: expired leases (a killed worker) and pending deliveries nobody picked up."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        expired = list(
            EventDelivery.objects.filter(status=DeliveryStatus.RUNNING, lease_expires_at__lt=now).values_list(
                "id", flat=True
            )
        )
        released = EventDelivery.objects.filter(
            id__in=expired, status=DeliveryStatus.RUNNING, lease_expires_at__lt=now
        ).update(status=DeliveryStatus.PENDING, lease_token=None, lease_expires_at=None)
    stale_before = now - timedelta(seconds=settings.EVENT_SWEEP_GRACE_SECONDS)
    stale = set(
        EventDelivery.objects.filter(status=DeliveryStatus.PENDING, available_at__lte=stale_before)
        .order_by("id")
        .values_list("id", flat=True)[:50_000]
    )
    todo = sorted(stale.union(expired))
    if todo:
        # Work waited past the grace period: a drain job may have died holding the wake flag.
        from carekit.core.jobs import huey

        huey.delete(WAKE_KEY)
        enqueue_deliveries(todo)
    return {"released": released, "enqueued": len(todo)}


def retry_dead(*, workspace_id: int | None = None, ids: Iterable[int] | None = None) -> int:
    """Put dead letters back in the queue with attempts reset; runs in the caller's transaction."""
    qs = EventDelivery.objects.filter(status=DeliveryStatus.DEAD)
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    chosen = list(qs.select_for_update().values_list("id", flat=True))
    EventDelivery.objects.filter(id__in=chosen).update(
        status=DeliveryStatus.PENDING, attempts=0, available_at=timezone.now(), last_error=""
    )
    transaction.on_commit(lambda: enqueue_deliveries(chosen))
    return len(chosen)


def dead_letters(workspace_id: int | None = None):
    qs = EventDelivery.objects.filter(status=DeliveryStatus.DEAD).select_related("event").order_by("-id")
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs
