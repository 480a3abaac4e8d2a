"""Crash safety with a real worker process and real commits."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from carekit.core.events import Actor, emit
from carekit.core.events import delivery as outbox
from carekit.core.jobs import huey
from carekit.core.models import DeliveryStatus, EventDelivery
from carekit.core.probe.models import ProbeEffect
from carekit.testing.tenants import make_workspace

SYSTEM = Actor.system("test")


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    host = s.get("HOST") or "127.0.0.1"
    return f"postgres://{s['USER']}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def _worker_env(probe_dir: Path, redis_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(
        HUEY_NAME=huey.name,
        DATABASE_URL=_database_url(),
        HUEY_FILE=str(settings.HUEY_FILE),
        HUEY_IMMEDIATE="0",
        CAREKIT_PROBES="1",
        CAREKIT_ENV="dev",
        DEBUG="0",
        PROBE_DIR=str(probe_dir),
        EVENT_LEASE_SECONDS="2",
        WORKER_PERIODIC="0",  # the test runs the sweeper itself, at a known moment
        LOG_LEVEL="WARNING",
    )
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    exe = shutil.which("carekit", path=str(Path(sys.executable).parent)) or "carekit"
    extra = [] if env.get("REDIS_URL") else ["--without-realtime"]  # SqliteHuey: no channels-redis either
    return subprocess.Popen([exe, "worker", "--threads", "1", *extra], env=env, stdout=subprocess.DEVNULL)


def _wait_for(predicate, timeout: float = 60.0, what: str = "condition", detail=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} {detail()}")
        time.sleep(0.05)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def real_queue(request):
    """Switch the job queue from immediate mode to a real storage that a worker process also reads."""
    redis_url = ""
    huey.immediate = False
    embedded_storage = huey.storage
    if request.param == "redis":
        from huey.storage import RedisStorage

        redis_url = os.environ["CAREKIT_TEST_REDIS_URL"]
        huey.storage = RedisStorage(huey.name, url=redis_url)
    huey.flush()
    try:
        yield redis_url
    finally:
        huey.flush()
        huey.storage = embedded_storage
        huey.immediate = True


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_while_handler_runs_loses_nothing(tmp_path, real_queue):
    ws = make_workspace()
    with transaction.atomic():
        held = emit(
            workspace_id=ws.pk, type="probe.barrier.hit", subject_type="t", subject_id="0", actor=SYSTEM
        )
    with transaction.atomic():
        rest = [
            emit(
                workspace_id=ws.pk,
                type="probe.thing.happened",
                subject_type="t",
                subject_id=str(i),
                actor=SYSTEM,
            )
            for i in range(5)
        ]
    env = _worker_env(tmp_path, real_queue)
    workers = [_start_worker(env)]
    try:
        _wait_for(lambda: (tmp_path / f"started-{held.pk}").exists(), what="the handler to reach the barrier")
        held_delivery = EventDelivery.objects.get(event_id=held.pk, handler__startswith="probe.")
        assert held_delivery.status == DeliveryStatus.RUNNING
        # The worker may have claimed the others in the same batch; all of them are leased to it now.
        running = EventDelivery.objects.filter(status=DeliveryStatus.RUNNING)
        assert 1 <= running.filter(handler__startswith="probe.").count() <= 6
        leased = running.count()  # other contexts' handlers (webhooks) may share the batch

        os.kill(workers[0].pid, signal.SIGKILL)  # killed while the handler's transaction is open
        workers[0].wait(timeout=10)
        assert ProbeEffect.objects.filter(event_id=held.pk).count() == 0  # its uncommitted write is gone
        held_delivery.refresh_from_db()
        assert held_delivery.status == DeliveryStatus.RUNNING  # still leased by the dead worker

        (tmp_path / f"release-{held.pk}").write_text("go")
        workers.append(_start_worker(env))
        time.sleep(2.2)  # let the dead worker's 2 s lease expire, then run the sweeper
        assert outbox.sweep()["released"] == leased

        ids = [held.pk, *(e.pk for e in rest)]
        open_ = EventDelivery.objects.filter(event_id__in=ids).exclude(status=DeliveryStatus.DONE)
        _wait_for(
            lambda: not open_.exists(),
            what="every delivery to be done",
            detail=lambda: list(open_.values_list("handler", "status", "attempts", "last_error")),
        )
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGINT)
                try:
                    w.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    w.kill()
    effects = sorted(ProbeEffect.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
    assert effects == sorted(ids)  # every event's effect exactly once
    assert EventDelivery.objects.get(event_id=held.pk, handler__startswith="probe.").attempts == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transactions_committing_out_of_id_order_are_both_delivered():
    ws = make_workspace()
    first_emitted = threading.Event()
    second_committed = threading.Event()
    ids: dict[str, int] = {}

    def slow() -> None:
        try:
            with transaction.atomic():
                ids["slow"] = emit(
                    workspace_id=ws.pk,
                    type="probe.thing.happened",
                    subject_type="t",
                    subject_id="a",
                    actor=SYSTEM,
                ).pk
                first_emitted.set()
                assert second_committed.wait(10)
        finally:
            connections.close_all()

    def fast() -> None:
        try:
            assert first_emitted.wait(10)
            with transaction.atomic():
                ids["fast"] = emit(
                    workspace_id=ws.pk,
                    type="probe.thing.happened",
                    subject_type="t",
                    subject_id="b",
                    actor=SYSTEM,
                ).pk
            second_committed.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert ids["slow"] < ids["fast"]  # the lower id committed last
    done = EventDelivery.objects.filter(
        event_id__in=ids.values(), handler="probe.record", status=DeliveryStatus.DONE
    )
    assert done.count() == 2
    assert sorted(ProbeEffect.objects.values_list("event_id", flat=True)) == sorted(ids.values())
