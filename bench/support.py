"""Shared plumbing for benchmarks: a scratch database per run, phases in subprocesses, percentiles.

A benchmark never touches the product's own database: `scratch_database()` creates `carekit_bench`
on PostgreSQL (or a temporary SQLite file), migrates it, and returns the environment that points
child processes at it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "carekit_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def carekit_exe() -> str:
    return shutil.which("carekit", path=str(Path(sys.executable).parent)) or "carekit"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _recreate_pg_database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{PG_BENCH_DB}"


def scratch_database(db: str, *, redis: bool | None = None) -> dict[str, str]:
    """Create and migrate a scratch database; return the environment for child processes."""
    workdir = Path(tempfile.mkdtemp(prefix="carekit-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE"}}
    env.update(
        CAREKIT_ENV="dev",
        DEBUG="0",
        CAREKIT_PROBES="1",
        CAREKIT_VAR_DIR=str(workdir),
        HUEY_FILE=str(workdir / "huey.sqlite3"),
        HUEY_IMMEDIATE="0",
        HUEY_NAME=f"carekit-bench-{os.getpid()}",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="600",
    )
    if db == "postgres":
        env["DATABASE_URL"] = _recreate_pg_database()
        use_redis = True if redis is None else redis
    elif db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        use_redis = bool(redis)
    else:
        raise ValueError(f"db must be sqlite or postgres, not {db!r}")
    if use_redis:
        env["REDIS_URL"] = REDIS_URL
    subprocess.run([carekit_exe(), "migrate", "--noinput", "-v", "0"], env=env, check=True)
    return env


def run_phase(module: str, phase: str, env: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    """Run `python -m <module> <phase>` in a child process configured by env; it prints one JSON object."""
    out = subprocess.run(
        [sys.executable, "-m", module, phase, json.dumps(params)],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
