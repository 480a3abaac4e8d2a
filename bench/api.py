"""`carekit bench api`: an authenticated list endpoint (page size 50) under concurrent load.

Workload: a scratch database (PostgreSQL + Redis by default) seeded with one workspace, `events`
audit events and a bearer token; `carekit serve --workers 2 --no-worker` (uvicorn, 2 processes,
plain HTTP on Django's WSGI handler over a fixed pool of threads per process, ADR 0202) in a
subprocess; from this machine, `connections` keep-alive HTTP/1.1 connections call
`GET /api/v1/events?limit=50` back to back for `seconds` after a `warmup`: from wrk (2 threads)
when it is installed (Debian package `wrk`), else from one asyncio Python process
(`--set client=python` forces it). Reports requests/s and latency percentiles of successful
responses (every non-200 answer counts as an error), and the server processes' CPU time per request
over the measured window (`server_cpu_ms_per_request`, from /proc), which unlike requests/s does not
depend on what else the shared machine is doing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from bench.support import carekit_exe, machine, percentile, run_phase, scratch_database, setup_django

DEFAULTS: dict[str, Any] = {
    "db": "postgres",
    "connections": 32,
    "seconds": 15,
    "warmup": 3,
    "workers": 2,
    "events": 500,
    "path": "/api/v1/events?limit=50",
    "port": 8440,
    # a second, shorter run against /healthz (no auth, no database) calibrates the machine's state
    "baseline_seconds": 5,
}


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **params}
    # several web processes need channels-redis (the in-memory layer does not cross processes)
    env = scratch_database(p["db"], redis=True)
    seeded = run_phase("bench.api", "seed", env, p)
    server = subprocess.Popen(
        [
            carekit_exe(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(p["port"]),
            "--workers",
            str(p["workers"]),
            "--no-worker",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    load_before = os.getloadavg()
    try:
        _wait_ready(p["port"], server)
        load = run_phase("bench.api", "load", env, {**p, "token": seeded["token"], "server_pid": server.pid})
        baseline = None
        if p["baseline_seconds"]:
            base = run_phase(
                "bench.api",
                "load",
                env,
                {
                    **p,
                    "token": seeded["token"],
                    "path": "/healthz",
                    "seconds": p["baseline_seconds"],
                    "warmup": 1,
                    "server_pid": server.pid,
                },
            )
            baseline = {
                k: base[k]
                for k in ("requests_per_second", "p50_ms", "p99_ms", "errors", "server_cpu_ms_per_request")
            }
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "benchmark": "api",
        "params": {k: v for k, v in p.items() if k != "token"},
        "server": (
            f"uvicorn (httptools, uvloop), {p['workers']} worker processes; Django's WSGI handler on "
            f"{os.environ.get('WEB_THREADS') or os.environ.get('DB_POOL_MAX') or 8} threads per process"
        ),
        "items_per_page": seeded["items_per_page"],
        **load,
        "baseline_healthz": baseline,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "machine": machine(),
    }


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (Linux /proc), 0 elsewhere.

    CPU per request does not depend on how busy the shared machine is, unlike requests/s."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return total


def _cpu_per_request(pid: int | None, cpu_before: float, requests: int) -> float | None:
    if not pid or not requests:
        return None
    return round((_tree_cpu_seconds(pid) - cpu_before) * 1000 / requests, 3)


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become healthy in 60 s")


# --- phases (run in child processes against the scratch database) ---------------------------------


def seed(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db import transaction

    from carekit.accounts import services
    from carekit.core.events import Actor, EventSpec, emit_many

    actor = Actor.system("bench")
    with transaction.atomic(durable=True):
        owner = services.user_create(actor=actor, email="bench@carekit.local", password=None)
        ws = services.workspace_create(actor=actor, name="Bench shop", owner=owner, slug="bench")
        issued = services.api_token_create(
            actor=actor,
            workspace=ws,
            name="bench",
            scopes=["audit:read"],
            held_scopes=frozenset({"*"}),
            created_by=None,
        )
        specs = [
            EventSpec(
                ws.pk, "bench.order.viewed", "order", f"ord_{i:06d}", actor, {"n": i, "total": "4590.00"}
            )
            for i in range(int(p["events"]))
        ]
        for start in range(0, len(specs), 500):
            emit_many(specs[start : start + 500])
    return {"token": issued.secret, "items_per_page": min(50, int(p["events"]) + 2)}


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers = {
        k.strip().lower(): v.strip()
        for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)
    }
    if headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status
    await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status


async def _client(
    host: str,
    port: int,
    request: bytes,
    until: float,
    warm_until: float,
    lat: list[float],
    counts: dict[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            started = time.perf_counter()
            if started >= until:
                return
            writer.write(request)
            status = await _read_response(reader)
            done = time.perf_counter()
            if started < warm_until:
                continue
            if status == 200:
                lat.append(done - started)
                counts["ok"] += 1
            else:
                counts["errors"] += 1
                counts[f"status_{status}"] = counts.get(f"status_{status}", 0) + 1
    finally:
        writer.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def load_wrk(p: dict[str, Any], wrk: str) -> dict[str, Any]:
    """The same load from wrk (C, 2 threads): a Python client spends the CPU the server needs."""
    url = f"http://127.0.0.1:{p['port']}{p['path']}"
    base = [wrk, "-t2", f"-c{int(p['connections'])}", "-H", f"Authorization: Bearer {p['token']}"]
    subprocess.run([*base, f"-d{int(p['warmup'])}s", url], check=True, capture_output=True)
    pid = p.get("server_pid")
    cpu_before = _tree_cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(
        [*base, f"-d{int(p['seconds'])}s", "--latency", url], check=True, capture_output=True, text=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, flags=re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    cpu_ms = _cpu_per_request(pid, cpu_before, total)
    return {
        "client": "wrk -t2",
        "requests": total,
        "errors": errors,
        "error_detail": {
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            **(
                dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True))
                if socket
                else {}
            ),
        },
        "seconds": float(p["seconds"]),
        "requests_per_second": round(rps, 1),
        "p50_ms": round(_wrk_ms(pct["50"]), 2),
        "p90_ms": round(_wrk_ms(pct["90"]), 2),
        "p99_ms": round(_wrk_ms(pct["99"]), 2),
        "server_cpu_ms_per_request": cpu_ms,
    }


def load(p: dict[str, Any]) -> dict[str, Any]:
    request = (
        f"GET {p['path']} HTTP/1.1\r\nHost: 127.0.0.1:{p['port']}\r\n"
        f"Authorization: Bearer {p['token']}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    with urllib.request.urlopen(  # our own server on loopback
        urllib.request.Request(
            f"http://127.0.0.1:{p['port']}{p['path']}", headers={"Authorization": f"Bearer {p['token']}"}
        )
    ) as resp:
        items = len(json.loads(resp.read()).get("items", []))
    wrk = shutil.which("wrk")
    if wrk and p.get("client", "wrk") == "wrk":
        return {"items_in_response": items, **load_wrk(p, wrk)}
    lat: list[float] = []
    counts = {"ok": 0, "errors": 0}

    pid = p.get("server_pid")
    cpu_at: list[float] = []

    async def mark_cpu(at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        cpu_at.append(_tree_cpu_seconds(pid) if pid else 0.0)

    async def main() -> float:
        start = time.perf_counter()
        warm_until = start + float(p["warmup"])
        until = warm_until + float(p["seconds"])
        await asyncio.gather(
            mark_cpu(warm_until),
            mark_cpu(until),
            *(
                _client("127.0.0.1", int(p["port"]), request, until, warm_until, lat, counts)
                for _ in range(int(p["connections"]))
            ),
        )
        return time.perf_counter() - warm_until

    elapsed = asyncio.run(main())
    return {
        "client": "python asyncio, one process",
        "items_in_response": items,
        "requests": counts["ok"],
        "errors": counts["errors"],
        "error_statuses": {k: v for k, v in counts.items() if k.startswith("status_")},
        "seconds": round(elapsed, 2),
        "requests_per_second": round(counts["ok"] / elapsed, 1),
        "p50_ms": round(percentile(lat, 0.50) * 1000, 2),
        "p90_ms": round(percentile(lat, 0.90) * 1000, 2),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
        "max_ms": round(max(lat) * 1000, 2) if lat else None,
        # approximate: the window's edges are sampled while requests are in flight
        "server_cpu_ms_per_request": (
            round((cpu_at[1] - cpu_at[0]) * 1000 / counts["ok"], 3) if pid and counts["ok"] else None
        ),
    }


if __name__ == "__main__":
    phase, raw = sys.argv[1], sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    result = {"seed": seed, "load": load}[phase](json.loads(raw))
    print(json.dumps(result))
