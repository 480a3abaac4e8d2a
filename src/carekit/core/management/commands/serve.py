"""`carekit serve`: the ASGI server, with an in-process worker unless told otherwise."""

from __future__ import annotations

import threading

import uvicorn
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from carekit.core.jobs import Heartbeat, huey, make_consumer
from carekit.core.realtime.publish import check_topology


class Command(BaseCommand):
    help = "Serve the web app (ASGI, uvicorn) and, by default, run the background worker in the same process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="web worker processes")
        parser.add_argument("--no-worker", action="store_true", help="do not run the embedded job consumer")

    def handle(self, *args, host: str, port: int, workers: int, no_worker: bool, **options):
        embedded = not no_worker
        if embedded and workers > 1:
            raise CommandError(
                "The embedded worker runs with one web process; use --no-worker and `carekit worker`."
            )
        try:
            check_topology(separate_worker=no_worker, web_processes=workers)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        if embedded and huey.immediate:
            raise CommandError("HUEY_IMMEDIATE is on; it runs jobs inside requests. Unset it to serve.")
        consumer = heartbeat = None
        if embedded:
            consumer = make_consumer(embedded=True)
            heartbeat = Heartbeat("embedded")
            threading.Thread(target=consumer.start, name="carekit-consumer", daemon=True).start()
            heartbeat.start()
        self.stdout.write(
            f"Carekit serving on http://{host}:{port} (database: {settings.DATABASES['default']['ENGINE']})"
        )
        try:
            uvicorn.run(
                "config.asgi:application",
                host=host,
                port=port,
                workers=workers,
                lifespan="on",  # binds the loop that real-time publishing uses
                log_level="warning",
                access_log=False,
            )
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            if heartbeat is not None:
                heartbeat.stop()
