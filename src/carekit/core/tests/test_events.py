"""The outbox: events exist only with their transaction, and every delivery's effect happens once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.core.events import Actor, EventSpec, emit, emit_many
from carekit.core.events import delivery as outbox
from carekit.core.events.writer import EventError
from carekit.core.models import DeliveryStatus, Event, EventDelivery
from carekit.core.probe.models import ProbeEffect
from carekit.testing.tenants import make_workspace

pytestmark = [pytest.mark.sqlite]
SYSTEM = Actor.system("test")


def probe_deliveries():
    """Deliveries to the probe handlers only: other contexts subscribe to events too (webhooks: all)."""
    return EventDelivery.objects.filter(handler__startswith="probe.")


def _emit(ws, type_="probe.thing.happened", **payload):
    return emit(
        workspace_id=ws.pk, type=type_, subject_type="thing", subject_id="t1", actor=SYSTEM, payload=payload
    )


@pytest.mark.django_db(transaction=True)
def test_event_emitted_in_rolled_back_transaction_does_not_exist():
    ws = make_workspace()
    before = Event.objects.count()

    class Boom(Exception):
        pass

    def change_then_fail() -> None:
        with transaction.atomic():
            _emit(ws)
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()

    assert Event.objects.count() == before
    assert probe_deliveries().count() == 0
    assert ProbeEffect.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_committed_event_is_delivered_once_after_commit():
    ws = make_workspace()
    with transaction.atomic():
        ev = _emit(ws)
        assert ProbeEffect.objects.count() == 0  # nothing runs before commit
    assert list(ProbeEffect.objects.values_list("event_id", "handler")) == [(ev.pk, "probe.record")]
    d = probe_deliveries().get(event_id=ev.pk)
    assert (d.status, d.attempts) == (DeliveryStatus.DONE, 1)


@pytest.mark.django_db(transaction=True)
def test_handler_failing_twice_then_succeeding_has_its_effect_once(settings):
    settings.EVENT_RETRY_BASE_SECONDS = 0
    ws = make_workspace()
    with transaction.atomic():
        ev = _emit(ws, "probe.flaky.happened", fail_times=2)
    # With no backoff the retries run at once (immediate job mode): attempt 1 and 2 fail, 3 succeeds.
    d = probe_deliveries().get(event_id=ev.pk)
    assert (d.status, d.attempts, d.last_error) == (DeliveryStatus.DONE, 3, "")
    assert ProbeEffect.objects.filter(event_id=ev.pk).count() == 1  # failed runs rolled back their writes


@pytest.mark.django_db(transaction=True)
def test_exhausted_retries_become_a_dead_letter_that_can_be_retried(settings):
    settings.EVENT_RETRY_BASE_SECONDS = 0
    settings.EVENT_MAX_ATTEMPTS = 2
    ws = make_workspace()
    with transaction.atomic():
        ev = _emit(ws, "probe.flaky.happened", fail_times=3)
    d = probe_deliveries().get(event_id=ev.pk)
    assert (d.status, d.attempts) == (DeliveryStatus.DEAD, 2)
    assert d.last_error == "RuntimeError: planned failure 2"
    assert list(outbox.dead_letters(ws.pk)) == [d]
    assert ProbeEffect.objects.filter(event_id=ev.pk).count() == 0

    settings.EVENT_MAX_ATTEMPTS = 8
    with transaction.atomic():
        assert outbox.retry_dead(workspace_id=ws.pk) == 1
    d.refresh_from_db()  # re-queued on commit: the handler fails a third time, then succeeds
    assert d.status == DeliveryStatus.DONE
    assert ProbeEffect.objects.filter(event_id=ev.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_event_whose_process_died_between_commit_and_enqueue_is_still_delivered(monkeypatch):
    ws = make_workspace()
    monkeypatch.setattr("carekit.core.events.writer._wake_after_commit", lambda: None)  # the crash
    with transaction.atomic():
        ev = _emit(ws)
    d = probe_deliveries().get(event_id=ev.pk)
    assert d.status == DeliveryStatus.PENDING
    assert outbox.sweep()["enqueued"] == 0  # inside the grace period the sweeper leaves it alone
    later = timezone.now() + timedelta(minutes=5)
    waiting = EventDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
    assert waiting >= 1
    assert outbox.sweep(now=later)["enqueued"] == waiting
    d.refresh_from_db()
    assert d.status == DeliveryStatus.DONE
    assert ProbeEffect.objects.filter(event_id=ev.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_expired_lease_is_released_and_the_late_worker_rolls_back():
    ws = make_workspace()
    with transaction.atomic():
        ev = _emit(ws)
    d = probe_deliveries().get(event_id=ev.pk)
    EventDelivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.PENDING)  # as if never run
    ProbeEffect.objects.all().delete()
    token, claimed = outbox.claim([d.pk])  # worker A claims, then stalls past its lease
    assert [c.pk for c in claimed] == [d.pk]
    expired = timezone.now() + timedelta(minutes=5)
    assert outbox.sweep(now=expired)["released"] == 1  # worker B takes over and completes it
    d.refresh_from_db()
    assert d.status == DeliveryStatus.DONE
    assert outbox.run_one(claimed[0], token) is None  # A wakes up: its effects roll back
    assert ProbeEffect.objects.filter(event_id=ev.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_batch_emit_writes_events_and_deliveries():
    ws = make_workspace()
    specs = [EventSpec(ws.pk, "probe.thing.happened", "thing", str(i), SYSTEM, {"n": i}) for i in range(250)]
    with transaction.atomic():
        events = emit_many(specs)
    assert len({e.public_id for e in events}) == 250
    assert probe_deliveries().filter(status=DeliveryStatus.DONE, event__workspace=ws).count() == 250
    assert ProbeEffect.objects.count() == 250


@pytest.mark.django_db
def test_emit_refuses_bad_events(workspace):
    with pytest.raises(EventError, match=r"not <context>\.<entity>\.<verb>"):
        _emit(workspace, "Bad Type")
    with pytest.raises(EventError, match="personal data"):
        _emit(workspace, email="a@b.c")
    assert Event.objects.filter(workspace=workspace, type__startswith="probe").count() == 0


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_is_refused():
    ws = make_workspace()
    with pytest.raises(EventError, match="inside the entry point's transaction"):
        _emit(ws)


@pytest.mark.django_db(transaction=True)
def test_one_failing_handler_in_a_batch_does_not_undo_or_repeat_the_others(settings):
    settings.EVENT_RETRY_BASE_SECONDS = 3600  # keep the failed one waiting
    ws = make_workspace()
    specs = [
        EventSpec(ws.pk, "probe.thing.happened", "thing", "1", SYSTEM),
        EventSpec(ws.pk, "probe.flaky.happened", "thing", "2", SYSTEM, {"fail_times": 5}),
        EventSpec(ws.pk, "probe.thing.happened", "thing", "3", SYSTEM),
    ]
    with transaction.atomic():
        good1, bad, good2 = emit_many(specs)
    states = dict(probe_deliveries().values_list("event_id", "status"))
    assert states == {good1.pk: "done", bad.pk: "pending", good2.pk: "done"}
    assert sorted(ProbeEffect.objects.filter(handler="probe.record").values_list("event_id", flat=True)) == [
        good1.pk,
        good2.pk,
    ]
    assert ProbeEffect.objects.filter(handler="probe.flaky").count() == 0


@pytest.mark.django_db(transaction=True)
def test_many_commits_queue_one_drain_job_that_delivers_them_all():
    from carekit.core.jobs import huey

    ws = make_workspace()
    huey.immediate = False
    huey.flush()
    try:
        for i in range(5):
            with transaction.atomic():
                _emit(ws, n=i)
        assert huey.pending_count() == 1  # five commits, one wake-up
        waiting = EventDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
        assert waiting >= 5
        assert outbox.drain() == waiting
        with transaction.atomic():
            _emit(ws, n=5)
        assert huey.pending_count() == 2  # the flag was cleared when the drain started
    finally:
        huey.flush()
        huey.immediate = True
    assert ProbeEffect.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_stale_wake_flag_does_not_stall_delivery(monkeypatch):
    """A drain job lost with a killed worker leaves its flag set; the next commit queues another."""
    from carekit.core.events.delivery import WAKE_KEY, WAKE_STALE_SECONDS
    from carekit.core.jobs import huey

    ws = make_workspace()
    huey.immediate = False
    huey.flush()
    try:
        huey.put(WAKE_KEY, time.time())  # a fresh flag: its drain job is still coming
        with transaction.atomic():
            _emit(ws, n=1)
        assert huey.pending_count() == 0
        huey.put(WAKE_KEY, time.time() - WAKE_STALE_SECONDS - 1)  # its job was lost
        with transaction.atomic():
            _emit(ws, n=2)
        assert huey.pending_count() == 1
        assert outbox.drain() >= 2
    finally:
        huey.flush()
        huey.delete(WAKE_KEY)
        huey.immediate = True
    assert ProbeEffect.objects.count() == 2
