"""Sending one delivery: claim with a lease, POST signed, record the attempt, retry with backoff."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from carekit.core.webhooks import http, signing
from carekit.core.webhooks.enums import AttemptOutcome, DeliveryStatus
from carekit.core.webhooks.models import WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)


def backoff_seconds(attempts: int) -> float:
    """Delay after the n-th failed attempt: base, 4x base, 16x base ... capped at six hours."""
    return float(min(settings.WEBHOOK_RETRY_BASE_SECONDS * (4 ** max(attempts - 1, 0)), 6 * 3600))


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    with transaction.atomic(durable=True):
        return bool(
            WebhookDelivery.objects.filter(
                pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
            )
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=lease, attempts=F("attempts") + 1)
        )


def attempt(delivery_id: int) -> str | None:
    """Make one attempt if the delivery is due and unclaimed; returns its new status (or None)."""
    if not _claim(delivery_id):
        return None
    d = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    sub = d.subscription
    outcome, code, error, excerpt = AttemptOutcome.REFUSED, None, "", ""
    terminal = False
    started = time.monotonic()
    if not sub.is_active:
        error, terminal = "the webhook was deactivated", True
    else:
        body = body_of(d)
        headers = {
            "Content-Type": "application/json",
            "X-Carekit-Event": d.event_type,
            "X-Carekit-Delivery": d.public_id,
            signing.SIGNATURE_HEADER: signing.sign(sub.secret, body, int(time.time())),
        }
        try:
            resp = http.post(sub.url, body, headers)
        except http.UnsafeTarget as exc:
            error, terminal = exc.message, True  # retrying cannot make a private address public
        except http.NetworkError as exc:
            outcome, error = AttemptOutcome.NETWORK_ERROR, str(exc)
        else:
            code, excerpt = resp.status, resp.body[:500].decode("utf-8", "replace")
            outcome = AttemptOutcome.SUCCESS if 200 <= resp.status < 300 else AttemptOutcome.HTTP_ERROR
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = outcome == AttemptOutcome.SUCCESS
    now = timezone.now()
    if ok:
        status = DeliveryStatus.SUCCEEDED
    elif terminal or d.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        status = DeliveryStatus.FAILED
    else:
        status = DeliveryStatus.PENDING
    delay = backoff_seconds(d.attempts)
    with transaction.atomic(durable=True):
        WebhookAttempt.objects.create(
            workspace_id=d.workspace_id,
            delivery=d,
            number=WebhookAttempt.objects.filter(delivery=d).count() + 1,
            outcome=outcome,
            status_code=code,
            error=error[:2000],
            response_excerpt=excerpt,
            duration_ms=duration_ms,
        )
        WebhookDelivery.objects.filter(pk=d.pk).update(
            status=status,
            lease_until=None,
            last_status_code=code,
            last_error=error[:2000] if not ok else "",
            completed_at=now if status != DeliveryStatus.PENDING else None,
            next_attempt_at=now + timedelta(seconds=delay) if status == DeliveryStatus.PENDING else now,
        )
    if status == DeliveryStatus.PENDING:
        logger.info("webhook delivery %s attempt %s failed; retry in %ss", d.public_id, d.attempts, delay)
        _schedule(d.pk, delay)
    return status


def _schedule(delivery_id: int, delay: float) -> None:
    from carekit.core.webhooks.tasks import deliver_webhook

    if delay <= 0:
        deliver_webhook(delivery_id)
    else:
        deliver_webhook.schedule((delivery_id,), delay=delay)


def sweep(*, grace_seconds: int = 60) -> int:
    """Re-enqueue due deliveries whose job was lost (a restart, a lost enqueue)."""
    from carekit.core.webhooks.tasks import deliver_webhook

    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now - timedelta(seconds=grace_seconds)
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("id", flat=True)[:5000]
    )
    for pk in due:
        deliver_webhook(pk)
    return len(due)
