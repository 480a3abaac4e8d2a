"""Background jobs on Huey: SqliteHuey embedded, RedisHuey when REDIS_URL is set.

Job arguments carry ids only (ARCHITECTURE.md rule 9). Every periodic task is declared through
`periodic()`, so `PERIODIC_TASKS` is the one list of what runs on a schedule.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

logger = logging.getLogger(__name__)


def _make_huey() -> Huey:
    immediate = bool(settings.HUEY_IMMEDIATE)
    if settings.REDIS_URL:
        return RedisHuey(
            settings.HUEY_NAME, url=settings.REDIS_URL, immediate=immediate, blocking=True, read_timeout=1
        )
    return SqliteHuey(settings.HUEY_NAME, filename=settings.HUEY_FILE, immediate=immediate)


huey = _make_huey()


def _with_fresh_connections(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if huey.immediate:  # inside a test's transaction: keep its connection
            return func(*args, **kwargs)
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


def task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a background job (thin: load by id, call a service)."""

    def decorator(func: Callable[..., Any]) -> Any:
        return huey.task(**options)(_with_fresh_connections(func))

    return decorator


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    schedule: str


PERIODIC_TASKS: list[PeriodicTask] = []


def periodic(
    *, minute: str = "*", hour: str = "*", description: str = ""
) -> Callable[[Callable[..., Any]], Any]:
    def decorator(func: Callable[..., Any]) -> Any:
        PERIODIC_TASKS.append(PeriodicTask(f"{func.__module__}.{func.__name__}", f"{minute} {hour} * * *"))
        return huey.periodic_task(crontab(minute=minute, hour=hour))(_with_fresh_connections(func))

    return decorator


class EmbeddedConsumer(Consumer):
    """A consumer that can run outside the main thread (no signal handlers)."""

    def _set_signal_handlers(self) -> None:
        pass


def make_consumer(*, workers: int | None = None, embedded: bool = False) -> Consumer:
    if huey.immediate:
        raise RuntimeError("Huey is in immediate mode; set HUEY_IMMEDIATE=0 to run a consumer")
    cls = EmbeddedConsumer if embedded else Consumer
    return cls(
        huey,
        workers=workers or settings.WORKER_THREADS,
        worker_type="thread",
        periodic=settings.WORKER_PERIODIC,
        initial_delay=0.05,
        backoff=1.3,
        max_delay=0.5,
        check_worker_health=True,
    )


class Heartbeat:
    """Stamps `WorkerHeartbeat` every few seconds while a consumer runs; /readyz reads it."""

    interval = 5.0

    def __init__(self, label: str) -> None:
        self.name = f"{label}@{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carekit-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        from carekit.core.models import WorkerHeartbeat

        try:
            WorkerHeartbeat.objects.filter(name=self.name).delete()
        finally:
            close_old_connections()

    def beat(self) -> None:
        from django.utils import timezone

        from carekit.core.models import WorkerHeartbeat

        WorkerHeartbeat.objects.update_or_create(
            name=self.name, defaults={"pid": os.getpid(), "beat_at": timezone.now()}
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # a database hiccup must not kill the worker; readyz will show it
                logger.exception("heartbeat failed")
            finally:
                close_old_connections()
            self._stop.wait(self.interval)
