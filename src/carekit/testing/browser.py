"""A real `carekit serve` on a scratch directory with the demo loaded, for headless-Chromium tests.

`demo_server(tmp, extra_env)` migrates an SQLite database under `tmp/var`, loads `carekit demo`, starts
`carekit serve` (embedded worker, in-memory layer) on a free port, waits for /healthz and yields
`(base_url, env)`; the server stops when the block ends. `cli(*args, env=...)` runs a command against
the same database. Uploaded files land under the scratch var/ (MEDIA_ROOT follows CAREKIT_VAR_DIR).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carekit.core.realtime.testing import free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "carekit.cli", *args], env=env, check=True, capture_output=True
    )
    return done.stdout.decode()


@contextmanager
def demo_server(
    tmp: Path, extra_env: dict[str, str] | None = None, *, port: int | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE"}}
    env.update({"CAREKIT_VAR_DIR": str(tmp / "var"), "CAREKIT_ENV": "dev", "DEBUG": "0", **(extra_env or {})})
    (tmp / "var").mkdir(parents=True, exist_ok=True)
    cli("migrate", "--noinput", env=env)
    cli("demo", env=env)
    port = port or free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "carekit.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
        cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield base, env
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
