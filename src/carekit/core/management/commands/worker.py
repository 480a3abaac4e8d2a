"""`carekit worker`: run Huey consumers (event deliveries, periodic tasks) in this process."""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from carekit.core.jobs import Heartbeat, make_consumer
from carekit.core.realtime.publish import check_topology


class Command(BaseCommand):
    help = "Run background workers (event deliveries and periodic tasks)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--without-realtime",
            action="store_true",
            help="allow a separate worker without REDIS_URL (its real-time events reach no browser)",
        )
        parser.add_argument(
            "--threads", type=int, default=None, help="worker threads (default WORKER_THREADS)"
        )

    def handle(self, *args, threads: int | None = None, **options):
        if options.get("without_realtime"):
            logging.getLogger(__name__).warning(
                "running without real-time: UI events published by this worker will not reach browsers"
            )
        else:
            try:
                check_topology(separate_worker=True)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from None
        # Huey logs every task at INFO; at hundreds of tasks a second that is the bottleneck.
        logging.getLogger("huey").setLevel(logging.WARNING)
        logging.getLogger("huey.consumer").setLevel(logging.INFO)
        consumer = make_consumer(workers=threads)
        heartbeat = Heartbeat("worker")
        heartbeat.start()
        try:
            consumer.run()
        finally:
            heartbeat.stop()
