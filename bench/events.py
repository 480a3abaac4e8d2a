"""`carekit bench events`: the event outbox.

Workload:
1. emit throughput: `batches` transactions of `batch_size` events (payload ~200 bytes, one subscribed
   handler, so each event also writes one delivery row), then `singles` one-event transactions;
2. commit -> handler-done latency: one `carekit worker` process (RedisHuey on PostgreSQL, SqliteHuey on
   SQLite), events emitted one per transaction at an open-loop `rate` per second for `seconds`; the
   handler writes one row. Latency is the delivery's completion time minus the emitter's commit time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from functools import partial
from typing import Any

from bench.support import carekit_exe, machine, percentile, run_phase, scratch_database, setup_django

DEFAULTS = {
    "db": "postgres",
    "batches": 30,
    "batch_size": 1000,
    "singles": 2000,
    "rate": 500,
    "seconds": 10,
    "emitters": 4,
    "batch_emitters": 2,
}
PAYLOAD_FILLER = "x" * 88


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **params}
    env = scratch_database(p["db"])
    emit = run_phase("bench.events", "emit", env, p)
    emit.update(_parallel_batches(env, p))
    latency = run_phase("bench.events", "latency", env, {**p, "_env": env})
    return {
        "benchmark": "events",
        "params": {k: p[k] for k in DEFAULTS},
        "queue": "redis" if "REDIS_URL" in env else "sqlite",
        "machine": machine(),
        **emit,
        **latency,
    }


def _parallel_batches(env: dict[str, str], p: dict[str, Any]) -> dict[str, Any]:
    """The batched workload from `batch_emitters` processes at once (one per core)."""
    n = p["batch_emitters"]
    start = time.time() + 5.0
    spec = json.dumps({**p, "start": start})
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.events", "batches", spec],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    ends, total = [], 0
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        result = json.loads(out.strip().splitlines()[-1])
        ends.append(result["end"])
        total += result["events"]
    return {f"emit_batched_events_per_s_{n}_processes": round(total / (max(ends) - start))}


def phase_batches(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.core.events import Actor, EventSpec, emit_many

    ws = _workspace()
    actor = Actor.system("bench")
    specs = [
        [
            EventSpec(ws.pk, "bench.thing.happened", "order", str(i), actor, _payload(i))
            for i in range(b * p["batch_size"], (b + 1) * p["batch_size"])
        ]
        for b in range(p["batches"])
    ]
    time.sleep(max(p["start"] - time.time(), 0))
    for batch in specs:
        with transaction.atomic():
            emit_many(batch)
    return {"events": p["batches"] * p["batch_size"], "end": time.time()}


def _payload(i: int) -> dict[str, Any]:
    return {
        "order_id": f"ord_{i:016d}",
        "customer_id": f"cus_{i:016d}",
        "total": "4590.00",
        "currency": "RUB",
        "status": "paid",
        "filler": PAYLOAD_FILLER,
    }


def _workspace():
    from django.db import transaction

    from carekit.accounts import services
    from carekit.core.events import Actor

    actor = Actor.system("bench")
    with transaction.atomic():
        owner = services.user_create(actor=actor, email=f"bench{time.time_ns()}@example.test", password=None)
        return services.workspace_create(
            actor=actor, name="Bench", owner=owner, slug=f"bench-{time.time_ns()}"
        )


def phase_emit(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.core.events import Actor, EventSpec, emit, emit_many
    from carekit.core.events.delivery import WAKE_KEY
    from carekit.core.jobs import huey
    from carekit.core.models import DeliveryStatus, EventDelivery

    ws = _workspace()
    actor = Actor.system("bench")
    payload_bytes = len(json.dumps(_payload(0)))
    n = p["batches"] * p["batch_size"]
    batches = [
        [
            EventSpec(ws.pk, "bench.thing.happened", "order", str(i), actor, _payload(i))
            for i in range(b * p["batch_size"], (b + 1) * p["batch_size"])
        ]
        for b in range(p["batches"])
    ]
    start = time.perf_counter()
    for specs in batches:
        with transaction.atomic():
            emit_many(specs)
    batched = time.perf_counter() - start

    start = time.perf_counter()
    for i in range(p["singles"]):
        with transaction.atomic():
            emit(
                workspace_id=ws.pk,
                type="bench.thing.happened",
                subject_type="order",
                subject_id=str(i),
                actor=actor,
                payload=_payload(i),
            )
    single = time.perf_counter() - start

    # Leave a clean queue for the latency phase (the wake flag belongs to the flushed drain job).
    huey.flush()
    huey.delete(WAKE_KEY)
    EventDelivery.objects.filter(status=DeliveryStatus.PENDING).update(status=DeliveryStatus.DONE)
    return {
        "payload_bytes": payload_bytes,
        "emit_batched_events_per_s": round(n / batched),
        "emit_single_tx_events_per_s": round(p["singles"] / single),
    }


def _stamp(marker: dict[str, float]) -> None:
    marker["t"] = time.time()


def phase_emitter(p: dict[str, Any]) -> dict[str, Any]:
    """One open-loop load generator: events at `rate`/s from wall time `start` for `seconds`."""
    setup_django()
    from django.db import transaction

    from carekit.core.events import Actor, emit

    actor = Actor.system("bench")
    total = int(p["rate"] * p["seconds"])
    committed: dict[int, float] = {}
    late = 0
    for i in range(total):
        target = p["start"] + i / p["rate"]
        now = time.time()
        if target > now:
            time.sleep(target - now)
        elif now - target > 0.05:
            late += 1
        marker: dict[str, float] = {}
        with transaction.atomic():
            # Registered before emit's own hook, so it runs first: the moment of commit.
            transaction.on_commit(partial(_stamp, marker))
            ev = emit(
                workspace_id=p["workspace_id"],
                type="bench.thing.happened",
                subject_type="order",
                subject_id=str(i),
                actor=actor,
                payload=_payload(i),
            )
        committed[ev.pk] = marker["t"]
    return {"committed": committed, "late": late, "finished": time.time()}


def phase_latency(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.core.events.delivery import WAKE_KEY
    from carekit.core.jobs import huey
    from carekit.core.models import DeliveryStatus, EventDelivery, WorkerHeartbeat

    # Start from an empty backlog: the emit phases left their deliveries and wake-ups behind.
    huey.flush()
    huey.delete(WAKE_KEY)
    with transaction.atomic():
        EventDelivery.objects.filter(status=DeliveryStatus.PENDING).update(status=DeliveryStatus.DONE)
    ws = _workspace()
    env = p.pop("_env")
    extra = [] if env.get("REDIS_URL") else ["--without-realtime"]
    worker = subprocess.Popen([carekit_exe(), "worker", *extra], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not WorkerHeartbeat.objects.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not start")
            time.sleep(0.1)
        time.sleep(1.0)  # let the consumer settle into its loop

        # Several generator processes: one Python process cannot commit 500 transactions a second.
        n = p["emitters"]
        start = time.time() + 6.0  # after every generator has loaded Django
        spec = {**p, "rate": p["rate"] / n, "start": start, "workspace_id": ws.pk}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.events", "emitter", json.dumps(spec)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(n)
        ]
        committed: dict[int, float] = {}
        late, finished = 0, start
        for proc in procs:
            out, _ = proc.communicate(timeout=p["seconds"] + 120)
            result = json.loads(out.strip().splitlines()[-1])
            committed.update({int(k): v for k, v in result["committed"].items()})
            late += result["late"]
            finished = max(finished, result["finished"])

        deadline = time.monotonic() + 120
        while EventDelivery.objects.filter(event_id__in=list(committed), completed_at__isnull=True).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        done = dict(
            EventDelivery.objects.filter(
                event_id__in=list(committed), completed_at__isnull=False
            ).values_list("event_id", "completed_at")
        )
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    lat_ms = [(ts.timestamp() - committed[eid]) * 1000 for eid, ts in done.items() if ts is not None]
    return {
        "latency_events": len(committed),
        "latency_delivered": len(lat_ms),
        "offered_rate_achieved": round(len(committed) / (finished - start), 1),
        "emitter_processes": n,
        "emitter_late_sends": late,
        "commit_to_handler_done_ms": {
            "p50": round(percentile(lat_ms, 0.50), 1),
            "p95": round(percentile(lat_ms, 0.95), 1),
            "p99": round(percentile(lat_ms, 0.99), 1),
            "max": round(max(lat_ms), 1) if lat_ms else None,
        },
    }


if __name__ == "__main__":
    phase, raw = sys.argv[1], sys.argv[2]
    fn = {"emit": phase_emit, "latency": phase_latency, "emitter": phase_emitter, "batches": phase_batches}[
        phase
    ]
    print(json.dumps(fn(json.loads(raw))))
