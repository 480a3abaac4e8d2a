"""Run `make demo` on a scratch var/ and port; wait for /readyz; sign in with the printed login; stop."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    port = free_port()
    var = tempfile.mkdtemp(prefix="carekit-smoke-")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE"}}
    env.update(CAREKIT_VAR_DIR=var, CAREKIT_ENV="dev")
    log = open(os.path.join(var, "demo.log"), "w+")  # noqa: SIM115 - read back after the run
    proc = subprocess.Popen(
        ["make", "demo", f"PORT={port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    ok = False
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
                    if resp.status == 200:
                        ok = True
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        if not ok:
            print("demo did not become ready")
            return 1
        print("readyz: ok")
        log.seek(0)
        match = re.search(r"as (\S+@\S+) / (\S+)", log.read())
        if not match:
            print("the demo did not print a login")
            return 1
        email, password = match.groups()
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/login/", timeout=10).read()
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        data = urllib.parse.urlencode(
            {"email": email, "password": password, "csrfmiddlewaretoken": csrf}
        ).encode()
        req = urllib.request.Request(f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"})
        with opener.open(req, timeout=10) as resp:
            page = resp.read().decode()
            if resp.url.rstrip("/") != base or "/logout/" not in page:
                print(f"login with the printed credentials failed (landed on {resp.url})")
                return 1
        print(f"login as {email}: ok")
        return 0
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if not ok:
            log.seek(0)
            print(log.read()[-4000:])
        log.close()


if __name__ == "__main__":
    sys.exit(main())
