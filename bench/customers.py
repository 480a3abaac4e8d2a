"""`carekit bench customers`: bulk import and identity resolution at scale.

Workload:
1. import: `customers` profiles (default 1,000,000) through the CSV importer's row validator and
   batch writer, in batches of `batch_size` (5,000), one transaction per batch. Each row has a name,
   one email (validated, lower-cased) and one phone (written in a national format, normalized to
   E.164 with `phonenumbers`); each profile gets two contacts, two identities and one
   `customers.customer.created` event. Reported: rows/s over the whole import and batch percentiles.
2. resolve: `resolves` calls of `customer_resolve` by email identity, each in its own durable
   transaction as an API endpoint would run it; `hit_ratio` (0.5) of them find an imported customer,
   the rest create one. Reported: p50/p95/p99 latency in milliseconds.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from bench.support import machine, percentile, run_phase, scratch_database, setup_django

DEFAULTS = {"db": "postgres", "customers": 1_000_000, "batch_size": 5000, "resolves": 2000, "hit_ratio": 0.5}


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **params}
    env = scratch_database(p["db"], redis=False)
    imported = run_phase("bench.customers", "import", env, p)
    resolved = run_phase("bench.customers", "resolve", env, {**p, "workspace_id": imported["workspace_id"]})
    return {
        "benchmark": "customers",
        "params": {k: p[k] for k in DEFAULTS},
        "machine": machine(),
        **{k: v for k, v in imported.items() if k != "workspace_id"},
        **resolved,
    }


def _email(i: int) -> str:
    return f"Customer.{i}@Example.com"


def _phone(i: int) -> str:
    """A distinct Russian mobile number in the national format people type: 8 (9XX) XXX-XX-XX."""
    return f"8 (9{i // 10**7 % 100:02d}) {i // 10**4 % 1000:03d}-{i // 100 % 100:02d}-{i % 100:02d}"


def phase_import(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.accounts import services as accounts
    from carekit.core.events import Actor
    from carekit.customers.importing import RowValidator, write_batch

    actor = Actor.system("bench")
    with transaction.atomic():
        owner = accounts.user_create(actor=actor, email=f"bench{time.time_ns()}@example.test", password=None)
        ws = accounts.workspace_create(actor=actor, name="Bench", owner=owner, slug=f"bench-{time.time_ns()}")
    validate = RowValidator(ws.pk, ["first_name", "last_name", "email", "phone"])
    total, size = int(p["customers"]), int(p["batch_size"])
    batch_seconds: list[float] = []
    bad = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for start in range(0, total, size):
        t0 = time.perf_counter()
        rows = []
        for i in range(start, min(start + size, total)):
            raw = {
                "first_name": f"Name{i}",
                "last_name": "Ivanova",
                "email": _email(i),
                "phone": _phone(i + 10_000),
            }
            clean = validate(i + 2, raw)
            if isinstance(clean, list):
                bad += 1
            else:
                rows.append(clean)
        with transaction.atomic(durable=True):
            write_batch(actor=actor, workspace=ws, rows=rows)
        batch_seconds.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "workspace_id": ws.pk,
        "import_rows": total,
        "import_bad_rows": bad,
        "import_seconds": round(elapsed, 2),
        "import_rows_per_s": round(total / elapsed, 1),
        "import_batch_p50_s": round(percentile(batch_seconds, 0.5), 3),
        "import_batch_p95_s": round(percentile(batch_seconds, 0.95), 3),
        # this process's CPU (validation and writing); unlike rows/s, independent of the machine's load
        "import_client_cpu_us_per_row": round(cpu * 1e6 / total, 1),
    }


def phase_resolve(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.core.events import Actor
    from carekit.core.models import Workspace
    from carekit.customers.services import customer_resolve

    actor = Actor.system("bench")
    ws = Workspace.objects.get(pk=p["workspace_id"])
    rng = random.Random(11)
    total = int(p["customers"])
    timings: list[float] = []
    by_outcome: dict[bool, list[float]] = {True: [], False: []}
    hits = 0
    cpu_started = time.process_time()
    for n in range(int(p["resolves"])):
        hit = rng.random() < float(p["hit_ratio"])
        value = _email(rng.randrange(total)) if hit else f"new.{n}@example.net"
        t0 = time.perf_counter()
        with transaction.atomic(durable=True):
            r = customer_resolve(actor=actor, workspace=ws, kind="email", value=value)
        ms = (time.perf_counter() - t0) * 1000
        timings.append(ms)
        by_outcome[not r.created].append(ms)
        hits += not r.created
    cpu = time.process_time() - cpu_started
    return {
        "resolve_calls": len(timings),
        "resolve_client_cpu_ms_per_call": round(cpu * 1000 / len(timings), 3) if timings else None,
        "resolve_hits": hits,
        "resolve_p50_ms": round(percentile(timings, 0.5), 2),
        "resolve_p95_ms": round(percentile(timings, 0.95), 2),
        "resolve_p99_ms": round(percentile(timings, 0.99), 2),
        "resolve_hit_p95_ms": round(percentile(by_outcome[True], 0.95), 2),
        "resolve_miss_p95_ms": round(percentile(by_outcome[False], 0.95), 2),
    }


if __name__ == "__main__":
    phase, raw = sys.argv[1], sys.argv[2]
    result = {"import": phase_import, "resolve": phase_resolve}[phase](json.loads(raw))
    sys.stdout.write(json.dumps(result) + "\n")
