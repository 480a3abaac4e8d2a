"""Loyalty accrual throughput against PostgreSQL, compared with pgbench on the same server.

Workload: one workspace and program, `accounts` (10,000) customer accounts created up front. Then
`workers` (16) concurrent workers (threads over `processes` OS processes, one per CPU by default, each
worker with its own database connection) accrue points for `seconds` (20 s): each loop picks an account
uniformly at random and calls `ledger.points_earn` (the service layer: account row lock, idempotency-key
check, ledger entry, lot, counter update, domain event) inside its own durable transaction, with a fresh
idempotency key. Then pgbench runs TPC-B (`pgbench_scale` 10, `pgbench_clients` 16, `pgbench_seconds` 20
s) against the same server and database. Reported: both rates (transactions per second), their ratio
(target >= 0.5), and average/p50/p99 latency of each.

Run: `DATABASE_URL=postgres://... carekit bench loyalty --json`, or
`python -c "import json, bench.loyalty as b; print(json.dumps(b.run({})))"` with DATABASE_URL set.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "accounts": 10_000,
    "workers": 16,
    # Workers are threads spread over this many processes (default: one per CPU), each worker with its
    # own connection. 16 single-threaded processes on 2 cores spent their time queueing for a CPU
    # between the transaction's round trips (the server sat in ClientRead).
    "processes": os.cpu_count() or 1,
    "seconds": 20.0,
    "pgbench_scale": 10,
    "pgbench_clients": 16,
    "pgbench_threads": 2,
    "pgbench_seconds": 20,
}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _prepare(n_accounts: int) -> tuple[int, list[int]]:
    from django.core.management import call_command
    from django.db import transaction

    from carekit.core.events import Actor
    from carekit.core.ids import new_public_id
    from carekit.core.models import Workspace
    from carekit.loyalty.models import Account
    from carekit.loyalty.services.programs import program_ensure

    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic(durable=True):
        ws = Workspace.objects.create(name="bench loyalty", slug=f"bench-{uuid.uuid4().hex[:12]}")
        program = program_ensure(actor=Actor.system("bench"), workspace_id=ws.pk)
        Account.objects.bulk_create(
            [
                Account(
                    public_id=new_public_id("acc"),
                    workspace=ws,
                    program=program,
                    customer_id=new_public_id("cus"),
                )
                for _ in range(n_accounts)
            ],
            batch_size=2000,
        )
    ids = list(Account.objects.filter(program=program).values_list("pk", flat=True))
    return ws.pk, ids


def _loop(account_ids: list[int], seconds: float, start_at: float, seed: int) -> tuple[list[float], int]:
    from django.db import connections, transaction

    from carekit.core.events import Actor
    from carekit.loyalty.models import Account
    from carekit.loyalty.services import ledger

    actor = Actor.system("bench")
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    while time.time() < start_at:
        time.sleep(0.001)
    stop = start_at + seconds
    try:
        while time.time() < stop:
            account = Account(pk=rng.choice(account_ids))
            t0 = time.perf_counter()
            try:
                with transaction.atomic(durable=True):
                    ledger.points_earn(
                        actor=actor,
                        account=account,
                        points=rng.randint(1, 100),
                        idempotency_key=f"bench:{uuid.uuid4().hex}",
                    )
            except Exception:  # counted and reported; a benchmark keeps going
                errors += 1
                continue
            latencies.append(time.perf_counter() - t0)
    finally:
        connections.close_all()
    return latencies, errors


def _reset_connections(pool_size: int | None = None) -> None:
    """Drop every connection and connection pool (a pool's threads and sockets do not survive a fork);
    in a worker process, size the next pool for its threads."""
    from django.db import connections

    for conn in connections.all():
        conn.close()
        if hasattr(conn, "close_pool"):
            conn.close_pool()
        pool = conn.settings_dict.get("OPTIONS", {}).get("pool")
        if pool_size and isinstance(pool, dict):
            pool["max_size"] = max(int(pool.get("max_size", 0)), pool_size)
            pool["min_size"] = min(int(pool.get("min_size", 0)), pool["max_size"])


def _worker(account_ids: list[int], threads: int, seconds: float, start_at: float, out: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _reset_connections(pool_size=threads)  # never share the parent's connections across a fork
    from carekit.loyalty.services import ledger  # noqa: F401  (import before the clock starts)

    cpu_before = time.process_time()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(
            pool.map(lambda i: _loop(account_ids, seconds, start_at, os.getpid() * 100 + i), range(threads))
        )
    # CPU of this whole process (all its threads) while they ran, waiting for the start included (idle)
    cpu = time.process_time() - cpu_before
    out.put(([x for lat, _ in results for x in lat], sum(e for _, e in results), cpu))


def _accrue(
    account_ids: list[int], workers: int, seconds: float, processes: int | None = None
) -> dict[str, Any]:
    """`workers` concurrent workers (each its own connection), spread over `processes` OS processes."""
    processes = max(1, min(processes or workers, workers))
    per_process = [workers // processes + (1 if i < workers % processes else 0) for i in range(processes)]
    _reset_connections()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 2.0
    procs = [ctx.Process(target=_worker, args=(account_ids, n, seconds, start_at, out)) for n in per_process]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    latencies = [x for lat, _, _ in results for x in lat]
    cpu = sum(c for _, _, c in results)
    return {
        "transactions": len(latencies),
        "errors": sum(e for _, e, _ in results),
        # Python CPU per accrual in the workers: unlike tps, independent of what else the machine runs
        "client_cpu_ms_per_accrual": round(cpu * 1000 / len(latencies), 3) if latencies else None,
        "tps": round(len(latencies) / seconds, 1),
        "latency_ms": {
            "avg": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
            "p50": round(_percentile(latencies, 0.50) * 1000, 2),
            "p99": round(_percentile(latencies, 0.99) * 1000, 2),
        },
    }


def _pgbench_bin() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        raise RuntimeError("pgbench not found on PATH or in /usr/lib/postgresql/15/bin")
    return found


def _pgbench(params: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    conn = [
        "-h",
        str(db.get("HOST") or "127.0.0.1"),
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        str(db.get("USER") or "postgres"),
    ]
    binary = _pgbench_bin()
    subprocess.run(
        [binary, *conn, "-i", "-q", "-s", str(params["pgbench_scale"]), db["NAME"]],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "tx")
        done = subprocess.run(
            [
                binary,
                *conn,
                "-c",
                str(params["pgbench_clients"]),
                "-j",
                str(params["pgbench_threads"]),
                "-T",
                str(int(params["pgbench_seconds"])),
                "-l",
                "--log-prefix",
                prefix,
                db["NAME"],
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        latencies = []
        for log in Path(tmp).glob("tx*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3:
                    latencies.append(int(fields[2]) / 1_000_000)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    tps = float(match.group(1)) if match else len(latencies) / float(params["pgbench_seconds"])
    return {
        "transactions": len(latencies),
        "tps": round(tps, 1),
        "latency_ms": {
            "avg": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
            "p50": round(_percentile(latencies, 0.50) * 1000, 2),
            "p99": round(_percentile(latencies, 0.99) * 1000, 2),
        },
    }


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **(params or {})}
    _setup_django()
    from django.conf import settings

    if settings.IS_SQLITE:
        raise RuntimeError("the loyalty benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    _, account_ids = _prepare(int(p["accounts"]))
    accrual = _accrue(account_ids, int(p["workers"]), float(p["seconds"]), int(p["processes"]))
    try:
        pgbench = _pgbench(p)
    except subprocess.CalledProcessError as exc:
        # Keep the accrual figures; say why the comparison is missing (e.g. the server's connection limit).
        return {"benchmark": "loyalty", "params": p, "accrual": accrual, "pgbench_error": exc.stderr[-2000:]}
    ratio = round(accrual["tps"] / pgbench["tps"], 3) if pgbench["tps"] else 0.0
    return {
        "benchmark": "loyalty",
        "params": p,
        "cpu_count": os.cpu_count(),
        "accrual": accrual,
        "pgbench": pgbench,
        "ratio": ratio,
        "target_ratio": 0.5,
        "meets_target": ratio >= 0.5,
    }


if __name__ == "__main__":
    import json
    import sys

    overrides = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps(run(overrides), indent=2))
