"""Separate web and worker processes deliver real-time events through channels-redis.

`carekit serve --no-worker` and `carekit worker` run as two processes on one SQLite file and Redis;
the worker handles the domain event, creates the notification and publishes it; the browser's socket
lives in the web process. With the in-memory layer this layout is refused (test_realtime.py).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from carekit.core.realtime.testing import free_port

PASSWORD = "demo-wardrobe-2026"
AGENT = "maria.sokolova@wardrobe.demo"
OWNER = "anna.volkova@wardrobe.demo"


def _cli(*args: str, env: dict[str, str], **kw):
    return subprocess.Popen([sys.executable, "-m", "carekit.cli", *args], env=env, **kw)


class Browser:
    """Cookies, CSRF and JSON over urllib: enough to sign in and call the session-authenticated API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def login(self, email: str) -> None:
        self.opener.open(f"{self.base}/login/").read()
        form = urllib.parse.urlencode(
            {"email": email, "password": PASSWORD, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        ).encode()
        self.opener.open(urllib.request.Request(f"{self.base}/login/", data=form)).read()
        self.cookie("sessionid")

    def api(self, method: str, path: str, body: dict | None = None, workspace: str = "") -> dict:
        headers = {"X-CSRFToken": self.cookie("csrftoken"), "Content-Type": "application/json"}
        if workspace:
            headers["X-Carekit-Workspace"] = workspace
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}/api/v1{path}", data=data, headers=headers, method=method)
        with self.opener.open(req) as resp:
            return json.loads(resp.read())


@pytest.mark.redis
@pytest.mark.slow
def test_worker_process_publishes_to_the_web_process_through_redis(tmp_path: Path):
    from websockets.sync.client import connect

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUEY_IMMEDIATE"}}
    env.update(
        CAREKIT_VAR_DIR=str(tmp_path / "var"),
        CAREKIT_ENV="dev",
        DEBUG="0",
        REDIS_URL=os.environ["CAREKIT_TEST_REDIS_URL"],
        HUEY_NAME=f"carekit-topology-{os.getpid()}",
    )
    for args in (("migrate", "--noinput"), ("demo",)):
        assert _cli(*args, env=env, stdout=subprocess.DEVNULL).wait(120) == 0
    port = free_port()
    log = (tmp_path / "procs.log").open("w")
    web = _cli("serve", "--no-worker", "--port", str(port), env=env, stdout=log, stderr=log)
    worker = _cli("worker", env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                assert web.poll() is None, (tmp_path / "procs.log").read_text()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        agent, owner = Browser(base), Browser(base)
        agent.login(AGENT)
        owner.login(OWNER)
        workspace = owner.api("GET", "/workspace")["id"]
        headers = {"Cookie": f"sessionid={agent.cookie('sessionid')}", "Origin": base}
        with connect(f"ws://127.0.0.1:{port}/ws/", additional_headers=headers, open_timeout=10) as sock:
            assert json.loads(sock.recv(timeout=10)) == {"type": "hello", "data": {"workspace": workspace}}
            member = next(m["id"] for m in owner.api("GET", "/members")["items"] if m["email"] == AGENT)
            team = owner.api("POST", "/teams", {"name": "Night shift"})
            owner.api("POST", f"/teams/{team['id']}/members", {"member_id": member})
            # other UI events for this person (e.g. inbox counts) may come first; the notification must come
            event = json.loads(sock.recv(timeout=30))
            while event["type"] != "notification.created":
                event = json.loads(sock.recv(timeout=30))
        assert event["type"] == "notification.created"
        assert event["data"]["kind"] == "team.joined"
    finally:
        for proc in (worker, web):
            proc.terminate()
            proc.wait(20)
        log.close()
