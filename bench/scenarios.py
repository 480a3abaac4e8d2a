"""`carekit bench scenarios`: the scenario engine on the event stream (issue 9).

Workload (PostgreSQL + Redis by default; database `carekit_scenarios`, Redis db 8):
- 100 published scenarios, 10 subscribed to each of 10 event types. Scenario j of a type enters when
  `event.score == j`; scores are uniform in 0..199, so exactly 5% of events pass one scenario's entry
  conditions (and start a run whose first step is an action: a webhook request).
1. evaluation throughput: `backlog` events emitted in batches, then ONE process claims the scenario
   handler's deliveries in batches (core's `process`, 100 per claim) until none are left. Reports
   events evaluated per second and runs started per second.
2. latency: a `carekit worker` process; emitters commit one event per transaction at an open-loop
   `rate` per second for `seconds`. Event -> first action is the first action's trace row time minus the
   emitter's commit time, for the events that started a run; also commit -> scenario handler done.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from functools import partial
from typing import Any

from bench import support
from bench.support import carekit_exe, machine, percentile, run_phase, setup_django

DEFAULTS = {
    "db": "postgres",
    "backlog": 20000,
    "rate": 500,
    "seconds": 10,
    "emitters": 4,
    "types": 10,
    "per_type": 10,
    "score_range": 200,
}
PG_DB = "carekit_scenarios"
REDIS = "redis://127.0.0.1:6379/8"
HANDLER = "scenarios.on_event"


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **params}
    support.PG_BENCH_DB = PG_DB
    support.REDIS_URL = REDIS
    env = support.scratch_database(p["db"])
    setup = run_phase("bench.scenarios", "setup", env, p)
    evaluation = run_phase("bench.scenarios", "evaluate", env, {**p, **setup})
    latency = run_phase("bench.scenarios", "latency", env, {**p, **setup, "_env": env})
    return {
        "benchmark": "scenarios",
        "params": {k: p[k] for k in DEFAULTS},
        "queue": "redis" if "REDIS_URL" in env else "sqlite",
        "machine": machine(),
        **setup,
        **evaluation,
        **latency,
    }


def _definition(event_type: str, j: int) -> dict[str, Any]:
    return {
        "schema": 1,
        "trigger": {"event": event_type, "when": [{"var": "event.score", "op": "eq", "value": j}]},
        "reentry": "always",
        "start": "notify",
        "steps": {
            "notify": {"type": "action", "action": "webhook", "params": {"topic": f"t{j}"}, "next": "end"}
        },
    }


def _type(k: int) -> str:
    return f"bench.kind{k}.happened"


def phase_setup(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from bench.events import _workspace
    from carekit.core.events import Actor
    from carekit.scenarios import services

    ws = _workspace()
    actor = Actor.system("bench")
    with transaction.atomic():
        for k in range(p["types"]):
            for j in range(p["per_type"]):
                s = services.scenario_create(
                    actor=actor, workspace=ws, name=f"s{k}-{j}", definition=_definition(_type(k), j)
                )
                services.version_publish(actor=actor, version=s.versions.get())
    return {"workspace_id": ws.pk, "scenarios": p["types"] * p["per_type"]}


def _payload(i: int, score: int) -> dict[str, Any]:
    return {
        "order_id": f"ord_{i:016d}",
        "customer_id": f"cus_{i % 5000:016d}",
        "score": score,
        "total": "4590.00",
    }


def _events(p: dict[str, Any], n: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    import random

    rng = random.Random(seed)
    return [
        (_type(rng.randrange(p["types"])), _payload(i, rng.randrange(p["score_range"]))) for i in range(n)
    ]


def phase_evaluate(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.core.events import Actor, EventSpec, emit_many
    from carekit.core.events.delivery import claim, run_batch
    from carekit.core.jobs import huey
    from carekit.core.models import DeliveryStatus, EventDelivery
    from carekit.scenarios.models import Run

    actor = Actor.system("bench")
    events = _events(p, p["backlog"], seed=9)
    for start in range(0, len(events), 1000):
        with transaction.atomic():
            emit_many(
                [
                    EventSpec(p["workspace_id"], t, "order", pl["order_id"], actor, pl)
                    for t, pl in events[start : start + 1000]
                ]
            )
    huey.flush()  # the wake-up jobs: this process is the one worker
    EventDelivery.objects.exclude(handler=HANDLER).filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DONE
    )
    pending = list(
        EventDelivery.objects.filter(handler=HANDLER, status=DeliveryStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    expected_runs = sum(1 for _, pl in events if pl["score"] < p["per_type"])
    runs_before = Run.objects.count()
    t0, cpu0 = time.perf_counter(), time.process_time()
    done = 0
    for start in range(0, len(pending), 100):
        token, claimed = claim(pending[start : start + 100])
        done += run_batch(claimed, token)["done"]
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    runs = Run.objects.count() - runs_before
    return {
        "evaluate_events": len(pending),
        "evaluate_done": done,
        "evaluate_seconds": round(elapsed, 2),
        "events_evaluated_per_s": round(done / elapsed),
        # The worker's own CPU (the database's is not in it): what the code costs, apart from waits on a
        # shared machine.
        "worker_cpu_seconds": round(cpu, 2),
        "events_evaluated_per_worker_cpu_s": round(done / cpu),
        "runs_started": runs,
        "runs_expected": expected_runs,
        "runs_started_per_s": round(runs / elapsed, 1),
        "entry_pass_rate": round(runs / max(done, 1), 4),
    }


def _stamp(marker: dict[str, float]) -> None:
    marker["t"] = time.time()


def phase_emitter(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.core.events import Actor, emit

    actor = Actor.system("bench")
    total = int(p["rate"] * p["seconds"])
    events = _events(p, total, seed=p["seed"])
    committed: dict[int, float] = {}
    late = 0
    for i, (type_, payload) in enumerate(events):
        target = p["start"] + i / p["rate"]
        now = time.time()
        if target > now:
            time.sleep(target - now)
        elif now - target > 0.05:
            late += 1
        marker: dict[str, float] = {}
        with transaction.atomic():
            transaction.on_commit(partial(_stamp, marker))
            ev = emit(
                workspace_id=p["workspace_id"],
                type=type_,
                subject_type="order",
                subject_id=payload["order_id"],
                actor=actor,
                payload=payload,
            )
        committed[ev.pk] = marker["t"]
    return {"committed": committed, "late": late, "finished": time.time()}


def phase_latency(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from carekit.core.models import EventDelivery, WorkerHeartbeat
    from carekit.scenarios.enums import StepKind
    from carekit.scenarios.models import StepRun

    env = p.pop("_env")
    worker = subprocess.Popen([carekit_exe(), "worker"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not WorkerHeartbeat.objects.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not start")
            time.sleep(0.1)
        time.sleep(1.0)
        n = p["emitters"]
        start = time.time() + 6.0
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.scenarios",
                    "emitter",
                    json.dumps({**p, "rate": p["rate"] / n, "start": start, "seed": 100 + e}),
                ],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for e in range(n)
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
        ids = list(committed)
        while EventDelivery.objects.filter(
            event_id__in=ids, handler=HANDLER, completed_at__isnull=True
        ).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        handled = dict(
            EventDelivery.objects.filter(
                event_id__in=ids, handler=HANDLER, completed_at__isnull=False
            ).values_list("event_id", "completed_at")
        )
        first_action = dict(
            StepRun.objects.filter(run__trigger_event_id__in=ids, kind=StepKind.ACTION, seq=1).values_list(
                "run__trigger_event_id", "created_at"
            )
        )
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    handler_ms = [(ts.timestamp() - committed[e]) * 1000 for e, ts in handled.items() if ts is not None]
    action_ms = [(ts.timestamp() - committed[e]) * 1000 for e, ts in first_action.items()]

    def dist(values: list[float]) -> dict[str, Any]:
        return {
            "n": len(values),
            "p50": round(percentile(values, 0.5), 1),
            "p95": round(percentile(values, 0.95), 1),
            "p99": round(percentile(values, 0.99), 1),
            "max": round(max(values), 1) if values else None,
        }

    return {
        "latency_events": len(committed),
        "offered_rate_achieved": round(len(committed) / (finished - start), 1),
        "emitter_late_sends": late,
        "commit_to_scenario_handler_done_ms": dist(handler_ms),
        "event_to_first_action_ms": dist(action_ms),
    }


if __name__ == "__main__":
    phase, raw = sys.argv[1], sys.argv[2]
    fn = {
        "setup": phase_setup,
        "evaluate": phase_evaluate,
        "latency": phase_latency,
        "emitter": phase_emitter,
    }[phase]
    print(json.dumps(fn(json.loads(raw))))
