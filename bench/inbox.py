"""`carekit bench inbox`: inbound through the API channel vs a bare Django insert; inbound → agent websocket
latency at half the measured maximum; the inbox list page in a workspace with 100,000 conversations.

Workload (PostgreSQL + Redis by default; the same server configuration for every phase):
1. throughput: `carekit serve --workers W --no-worker` plus one `carekit worker`; after `warmup_seconds`
   of each endpoint, `clients` concurrent keep-alive HTTP clients for `seconds` post inbound messages
   (unique external ids, `threads` channel threads) to the API channel, then the same clients post to a
   bare Django endpoint that inserts one ~200-byte row (`/probe/bare-insert/`). Both answer 2xx
   only after their transaction committed.
2. latency: an agent's websocket is open; inbound messages at a fixed open-loop rate of half the measured
   inbound maximum for `latency_seconds`; latency = the agent's `inbox.changed` event for the message
   minus the moment its POST was sent.
3. list page: `conversations` rows in one workspace (spread over `agents` assignees, 90 % active);
   the agent's inbox page (`/inbox/?view=mine` and `?view=all`, 50 rows) fetched `page_requests` times.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

from bench.support import carekit_exe, machine, percentile, run_phase, scratch_database, setup_django

DEFAULTS = {
    "db": "postgres",
    "clients": 8,
    "seconds": 20,
    "warmup_seconds": 5,
    "threads": 200,
    "web_workers": 2,
    "latency_seconds": 10,
    "conversations": 100_000,
    "agents": 20,
    "page_requests": 300,
    "port": 0,  # the server's port; 0 picks a free one
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **params}
    env = scratch_database(p["db"])
    env["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.1/32"
    env["CAREKIT_PROBES"] = "1"
    setup = run_phase("bench.inbox", "setup", env, p)
    port = int(p["port"]) or _free_port()
    base = f"http://127.0.0.1:{port}"
    env_serve = {**env, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        [carekit_exe(), "serve", "--port", str(port), "--workers", str(p["web_workers"]), "--no-worker"],
        env=env_serve,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [carekit_exe(), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_up(base)
        spec = {**p, **setup, "base": base}
        # Warm both endpoints first (process start-up, connections, the threads' first conversations):
        # the measured window is steady state for both.
        warm = {**spec, "seconds": p["warmup_seconds"]}
        run_phase("bench.inbox", "load_inbound", env, warm)
        run_phase("bench.inbox", "load_bare", env, warm)
        inbound = run_phase("bench.inbox", "load_inbound", env, {**spec, "tag": "load"})
        bare = run_phase("bench.inbox", "load_bare", env, spec)
        rate = max(inbound["rps"] / 2, 1.0)
        latency = run_phase("bench.inbox", "latency", env, {**spec, "rate": rate})
        pages = run_phase("bench.inbox", "pages", env, spec)
    finally:
        for proc in (server, worker):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {
        "benchmark": "inbox",
        "params": {k: p[k] for k in DEFAULTS},
        "machine": machine(),
        "inbound_api_channel": inbound,
        "bare_django_insert": bare,
        "ratio_inbound_to_bare": round(inbound["rps"] / bare["rps"], 3) if bare["rps"] else None,
        "latency": latency,
        "inbox_page": pages,
    }


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.2)


# --- phases (each in its own process) ----------------------------------------------------------------


def phase_setup(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from carekit.accounts import services
    from carekit.accounts.enums import Role
    from carekit.conversations import apichannel
    from carekit.core.events import Actor

    actor = Actor.system("bench")
    with transaction.atomic():
        owner = services.user_create(actor=actor, email="owner@bench.test", password=None)
        ws = services.workspace_create(actor=actor, name="Bench", owner=owner, slug="bench-inbox")
        agent_user = services.user_create(actor=actor, email="agent@bench.test", password=None)
        member = services.member_add(actor=actor, workspace=ws, user=agent_user, role=Role.AGENT)
        channel = apichannel.api_channel_create(
            actor=actor, workspace=ws, name="Bench shop", webhook_url="http://127.0.0.1:9/hook"
        )
        token = services.api_token_create(
            actor=actor,
            workspace=ws,
            name="bench",
            scopes=["inbox:channel"],
            held_scopes=frozenset({"*"}),
            created_by=None,
        ).secret
    session = SessionStore()
    session[SESSION_KEY] = str(agent_user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = agent_user.get_session_auth_hash()
    session["carekit_workspace"] = ws.public_id
    session.create()
    return {
        "workspace_pk": ws.pk,
        "member_id": member.public_id,
        "channel_id": channel.public_id,
        "token": token,
        "session": session.session_key,
    }


def _inbound_body(i: int, p: dict[str, Any], tag: str) -> bytes:
    thread = i % p["threads"]
    return json.dumps(
        {
            "thread_id": f"thread-{thread}",
            "message_id": f"{tag}-{i}",
            "customer_ref": f"customer-{thread}",
            "text": "Hello! Where is my order? It was due yesterday and the tracking page shows nothing.",
        }
    ).encode()


def _closed_loop(p: dict[str, Any], path: str, body_of, headers: dict[str, str]) -> dict[str, Any]:
    host, port = p["base"].removeprefix("http://").split(":")
    stop_at = time.monotonic() + p["seconds"]
    counter = iter(range(10**9))
    lock = threading.Lock()
    ok, errors, lat = [0], [0], []
    codes: dict[str, int] = {}

    def client() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body_of(i), headers=headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as exc:
                errors[0] += 1
                with lock:
                    codes[type(exc).__name__] = codes.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if 200 <= resp.status < 300:
                    ok[0] += 1
                    lat.append(elapsed * 1000)
                else:
                    errors[0] += 1
                    codes[str(resp.status)] = codes.get(str(resp.status), 0) + 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(p["clients"])]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return {
        "requests_ok": ok[0],
        "errors": errors[0],
        "error_kinds": codes,
        "rps": round(ok[0] / wall, 1),
        "latency_ms": {"p50": round(percentile(lat, 0.5), 1), "p95": round(percentile(lat, 0.95), 1)},
    }


def phase_load_inbound(p: dict[str, Any]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {p['token']}"}
    path = f"/api/v1/inbox/api-channels/{p['channel_id']}/messages"
    tag = p.get("tag", "warm")
    return _closed_loop(p, path, lambda i: _inbound_body(i, p, tag), headers)


def phase_load_bare(p: dict[str, Any]) -> dict[str, Any]:
    filler = json.dumps({"payload": "y" * 150}).encode()
    return _closed_loop(p, "/probe/bare-insert/", lambda i: filler, {"Content-Type": "application/json"})


def phase_latency(p: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_latency(p))


async def _latency(p: dict[str, Any]) -> dict[str, Any]:
    import websockets

    host_port = p["base"].removeprefix("http://")
    received: dict[str, float] = {}
    sent: dict[str, float] = {}
    headers = {"Cookie": f"sessionid={p['session']}", "Origin": p["base"]}
    async with websockets.connect(f"ws://{host_port}/ws/", additional_headers=headers) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello", hello

        async def listen() -> None:
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "inbox.changed" and event["data"].get("message_id"):
                    received.setdefault(event["data"]["message_id"], time.time())

        listener = asyncio.create_task(listen())
        rate, total = p["rate"], int(p["rate"] * p["latency_seconds"])
        loop = asyncio.get_running_loop()
        path = f"/api/v1/inbox/api-channels/{p['channel_id']}/messages"
        req_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {p['token']}"}
        late = [0]

        def post(i: int) -> None:
            host, port = host_port.split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            t0 = time.time()
            conn.request("POST", path, body=_inbound_body(i, p, "lat"), headers=req_headers)
            resp = conn.getresponse()
            data = json.loads(resp.read())
            conn.close()
            if resp.status == 201:
                sent[data["message_id"]] = t0

        start = time.time() + 0.5
        futures = []
        for i in range(total):
            target = start + i / rate
            delay = target - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                late[0] += 1
            futures.append(loop.run_in_executor(None, post, i))
        await asyncio.gather(*futures)
        deadline = time.time() + 10
        while time.time() < deadline and not set(sent) <= set(received):
            await asyncio.sleep(0.1)
        listener.cancel()
    lat = [(received[m] - t0) * 1000 for m, t0 in sent.items() if m in received]
    return {
        "rate_per_s": round(rate, 1),
        "messages": len(sent),
        "events_received": len(lat),
        "late_sends": late[0],
        "inbound_to_agent_event_ms": {
            "p50": round(percentile(lat, 0.5), 1),
            "p95": round(percentile(lat, 0.95), 1),
            "p99": round(percentile(lat, 0.99), 1),
        },
    }


def phase_pages(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from datetime import timedelta

    from django.utils import timezone

    from carekit.conversations.models import Conversation
    from carekit.core.ids import new_public_id

    ws_pk, me = p["workspace_pk"], p["member_id"]
    existing = Conversation.objects.filter(workspace_id=ws_pk).count()
    now = timezone.now()
    agents = [me] + [f"mem_bench{i:011d}" for i in range(1, p["agents"])]
    statuses = ["open"] * 6 + ["pending", "snoozed", "open", "resolved"]
    batch = []
    for i in range(existing, p["conversations"]):
        batch.append(
            Conversation(
                public_id=new_public_id("cnv"),
                workspace_id=ws_pk,
                customer_id=f"cus_bench{i:011d}",
                channel="api",
                channel_ref="apc_bench",
                thread_key=f"bulk-{i}",
                status=statuses[i % len(statuses)],
                assignee_id=agents[i % len(agents)],
                last_message_at=now - timedelta(seconds=i),
                created_at=now - timedelta(seconds=i),
                message_count=1,
            )
        )
        if len(batch) == 5000:
            Conversation.objects.bulk_create(batch)
            batch = []
    if batch:
        Conversation.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE conversations_conversation")
    total = Conversation.objects.filter(workspace_id=ws_pk).count()
    host, port = p["base"].removeprefix("http://").split(":")
    out: dict[str, Any] = {"conversations_in_workspace": total}
    for view in ("mine", "all"):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        times = []
        for n in range(p["page_requests"] + 10):
            t0 = time.perf_counter()
            conn.request("GET", f"/inbox/?view={view}", headers={"Cookie": f"sessionid={p['session']}"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"inbox page answered {resp.status}")
            if n >= 10:  # warm-up
                times.append((time.perf_counter() - t0) * 1000)
        rows = body.count(b"data-conversation=")
        conn.close()
        out[view] = {
            "rows": rows,
            "p50_ms": round(percentile(times, 0.5), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
        }
    return out


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    phase, raw = sys.argv[1], sys.argv[2]
    fn = {
        "setup": phase_setup,
        "load_inbound": phase_load_inbound,
        "load_bare": phase_load_bare,
        "latency": phase_latency,
        "pages": phase_pages,
    }[phase]
    print(json.dumps(fn(json.loads(raw))))
