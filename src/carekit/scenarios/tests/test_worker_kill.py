"""A real worker process killed in the middle of a run's actions: after the retry, the effect is once."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from django.db import transaction

from carekit.core.events import Actor, emit
from carekit.core.events import delivery as outbox
from carekit.core.models import DeliveryStatus, EventDelivery
from carekit.core.tests.test_worker_crash import _start_worker, _wait_for, _worker_env, real_queue  # noqa: F401
from carekit.loyalty.models import Compensation
from carekit.scenarios import services
from carekit.scenarios.enums import RunStatus
from carekit.scenarios.models import Run
from carekit.testing.tenants import make_workspace

SYSTEM = Actor.system("test")
GRANT_THEN_HOLD = {
    "schema": 1,
    "trigger": {"event": "customers.order.returned"},
    "reentry": "always",
    "start": "grant",
    "steps": {
        "grant": {
            "type": "action",
            "action": "loyalty.grant",
            "params": {"points": 100, "reason": "r"},
            "next": "hold",
        },
        "hold": {"type": "action", "action": "probe.barrier", "next": "end"},
    },
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_action_then_retried_grants_once(tmp_path, real_queue):  # noqa: F811
    ws = make_workspace()
    with transaction.atomic():
        s = services.scenario_create(actor=SYSTEM, workspace=ws, name="kill", definition=GRANT_THEN_HOLD)
        services.version_publish(actor=SYSTEM, version=s.versions.get())
    with transaction.atomic():
        event = emit(
            workspace_id=ws.pk,
            type="customers.order.returned",
            subject_type="order",
            subject_id="ord_k",
            actor=SYSTEM,
            payload={"order_id": "ord_k", "customer_id": "cus_k"},
        )
    env = _worker_env(tmp_path, real_queue)
    workers = [_start_worker(env)]
    try:
        _wait_for(
            lambda: (tmp_path / "started-cus_k").exists(), what="the run to reach the barrier after its grant"
        )
        os.kill(workers[0].pid, signal.SIGKILL)  # the grant is written but not committed
        workers[0].wait(timeout=10)
        assert Compensation.objects.count() == 0
        assert not Run.objects.exists()
        (tmp_path / "release-cus_k").write_text("go")
        workers.append(_start_worker(env))
        time.sleep(2.2)  # the dead worker's 2 s lease expires; the sweeper hands the delivery out again
        outbox.sweep()
        mine = EventDelivery.objects.filter(event_id=event.pk, handler="scenarios.on_event")
        _wait_for(
            lambda: mine.filter(status=DeliveryStatus.DONE).exists(),
            what="the retried delivery",
            detail=lambda: list(mine.values_list("status", "attempts", "last_error")),
        )
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGINT)
                try:
                    w.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    w.kill()
    assert Compensation.objects.filter(customer_id="cus_k").count() == 1
    run = Run.objects.get()
    assert run.status == RunStatus.COMPLETED
    assert [t.step for t in run.trace.filter(kind="action").order_by("seq")] == ["grant", "hold"]
    assert mine.get().attempts == 2
