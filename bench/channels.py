"""`carekit bench channels`: inbound throughput through each channel adapter vs the bare API channel.

Workload (PostgreSQL + Redis by default; one server configuration for every phase):
`carekit serve --workers W --no-worker` plus one `carekit worker`. For each path, after
`warmup_seconds` of it, `clients` concurrent clients send inbound customer messages for `seconds`:
- api: `POST /api/v1/inbox/api-channels/{id}/messages` (JSON, `threads` channel threads);
- email: `POST /channels/email/<key>/inbound`, one signed raw MIME mail per request, each a reply
  (In-Reply-To/References) in one of `threads` mail threads started during the warm-up;
- telegram: `POST /hooks/telegram/<key>/` with the secret-token header, one Bot API `Update`
  per request from one of `threads` chats;
- widget: `clients` visitors on the widget's websocket, each message acked after it is stored.
Every answer counts only when 2xx (HTTP) or an ack (websocket): the message is durably stored first.
Reported: messages/s and p50/p95 latency per path, and each adapter's ratio to the API channel.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

from bench.inbox import _closed_loop, _free_port, _inbound_body, _wait_up
from bench.inbox import phase_setup as inbox_setup
from bench.support import carekit_exe, machine, run_phase, scratch_database, setup_django

DEFAULTS = {
    "db": "postgres",
    "clients": 8,
    "seconds": 15,
    "warmup_seconds": 3,
    "threads": 200,
    "web_workers": 2,
}
PATHS = ("api", "email", "telegram", "widget")
TEXT = "Hello! Where is my order? It was due yesterday and the tracking page shows nothing."


def run(params: dict[str, Any]) -> dict[str, Any]:
    p = {**DEFAULTS, **params}
    env = scratch_database(p["db"])
    env["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.1/32"
    env["CAREKIT_PROBES"] = "1"
    setup = run_phase("bench.channels", "setup", env, p)
    port = _free_port()
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
    results: dict[str, Any] = {}
    try:
        _wait_up(base)
        spec = {**p, **setup, "base": base}
        for path in PATHS:
            if path not in setup["paths"]:
                results[path] = {"skipped": setup["paths_missing"].get(path, "not available")}
                continue
            run_phase("bench.channels", path, env, {**spec, "seconds": p["warmup_seconds"], "tag": "warm"})
            results[path] = run_phase("bench.channels", path, env, {**spec, "tag": "load"})
    finally:
        for proc in (server, worker):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    api = results.get("api", {}).get("rps") or 0
    ratios = {
        path: round(results[path]["rps"] / api, 3)
        for path in PATHS
        if path != "api" and api and "rps" in results.get(path, {})
    }
    return {
        "benchmark": "channels",
        "params": {k: p[k] for k in DEFAULTS},
        "machine": machine(),
        **{f"inbound_{path}": results.get(path) for path in PATHS},
        "ratio_to_api_channel": ratios,
        "target_ratio": 0.7,
    }


# --- phases (each in its own process) ----------------------------------------------------------------


def phase_setup(p: dict[str, Any]) -> dict[str, Any]:
    out = inbox_setup(p)  # workspace, API channel, token, agent session
    from django.db import transaction

    from carekit.channels import services
    from carekit.core.events import Actor
    from carekit.core.models import Workspace

    actor = Actor.system("bench")
    ws = Workspace.objects.get(pk=out["workspace_pk"])
    paths, missing = ["api"], {}
    with transaction.atomic():
        mailbox = services.channel_create(
            actor=actor, workspace=ws, kind="email", name="Bench mail", config={"address": "help@bench.test"}
        )
        paths.append("email")
        out["email_key"] = mailbox.public_key
        out["email_secret"] = mailbox.secrets[services.SIGNING]
        widget = services.channel_create(
            actor=actor,
            workspace=ws,
            kind="webchat",
            name="Bench widget",
            config={"ip_messages_per_minute": 1_000_000, "visitor_messages_per_minute": 1_000_000},
        )
        paths.append("widget")
        out["widget_key"] = widget.public_key
        try:
            from carekit.channels.adapters import telegram  # noqa: F401
        except ImportError:
            missing["telegram"] = "the Telegram adapter is not installed"
        else:
            bot = services.channel_create(
                actor=actor,
                workspace=ws,
                kind="telegram",
                name="Bench bot",
                config={"mode": "webhook", "api_base_url": "http://127.0.0.1:9"},
                secrets={"bot_token": "123456:AAHbenchBENCHbenchBENCHbenchBENCHb"},
            )
            paths.append("telegram")
            out["telegram_key"] = bot.public_key
            out["telegram_secret"] = bot.secrets[services.SIGNING]
    out["paths"] = paths
    out["paths_missing"] = missing
    return out


def phase_api(p: dict[str, Any]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {p['token']}"}
    path = f"/api/v1/inbox/api-channels/{p['channel_id']}/messages"
    return _closed_loop(p, path, lambda i: _inbound_body(i, p, p["tag"]), headers)


def _mail(p: dict[str, Any], i: int) -> bytes:
    thread = i % p["threads"]
    first = f"<t{thread}@customers.bench.test>"
    reply = p["tag"] != "warm" or i >= p["threads"]
    own = f"<{p['tag']}-{i}@customers.bench.test>" if reply else first
    lines = [
        f"From: Customer {thread} <customer{thread}@customers.bench.test>",
        "To: help@bench.test",
        f"Subject: {'Re: ' if reply else ''}Where is my order?",
        f"Message-ID: {own}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if reply:
        lines += [f"In-Reply-To: {first}", f"References: {first}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + TEXT + "\r\n").encode()


def phase_email(p: dict[str, Any]) -> dict[str, Any]:
    from carekit.core.webhooks.signing import sign

    def headers_of(i: int, body: bytes) -> dict[str, str]:
        return {"X-Carekit-Signature": sign(p["email_secret"], body, int(time.time()))}

    path = f"/channels/email/{p['email_key']}/inbound"
    return _closed_loop(p, path, lambda i: _mail(p, i), {"Content-Type": "message/rfc822"}, headers_of)


def phase_telegram(p: dict[str, Any]) -> dict[str, Any]:
    offset = 1_000_000 if p["tag"] == "load" else 0

    def update(i: int) -> bytes:
        chat = 700_000 + i % p["threads"]
        n = offset + i
        return json.dumps(
            {
                "update_id": n,
                "message": {
                    "message_id": n,
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private", "first_name": "Ivan"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Ivan", "language_code": "ru"},
                    "text": TEXT,
                },
            }
        ).encode()

    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": p["telegram_secret"]}
    return _closed_loop(p, f"/hooks/telegram/{p['telegram_key']}/", update, headers)


def phase_widget(p: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    import asyncio

    from carekit.channels.adapters.webchat.load import drive_async

    async def timed() -> dict[str, Any]:
        # `drive_async` sends a fixed number per visitor; size it from a short probe to last ~`seconds`.
        probe = await drive_async(p["base"], p["widget_key"], visitors=p["clients"], messages=5)
        rate = max(probe.acked / max(probe.seconds, 1e-3), 1.0)
        per_visitor = max(int(rate * p["seconds"] / p["clients"]), 5)
        r = await drive_async(p["base"], p["widget_key"], visitors=p["clients"], messages=per_visitor)
        s = r.summary()
        return {
            "requests_ok": s["acked"],
            "errors": s["errors"] + s["refused"],
            "duplicates": s["duplicates"],
            "rps": s["throughput_per_s"],
            "latency_ms": {"p50": s["p50_ms"], "p95": s["p95_ms"]},
            "seconds": s["seconds"],
        }

    return asyncio.run(timed())


if __name__ == "__main__":
    import os
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    phase, raw = sys.argv[1], sys.argv[2]
    fn = {
        "setup": phase_setup,
        "api": phase_api,
        "email": phase_email,
        "telegram": phase_telegram,
        "widget": phase_widget,
    }[phase]
    print(json.dumps(fn(json.loads(raw))))
