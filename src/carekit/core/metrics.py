"""Prometheus metrics: request counts and latency, queue depth, event delivery lag."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "carekit_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "carekit_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class QueueCollector:
    """Computed at scrape time from the outbox and the job queue."""

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # no database access at registration time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min

        from carekit.core.jobs import huey
        from carekit.core.models import DeliveryStatus, EventDelivery

        by_status = GaugeMetricFamily(
            "carekit_event_deliveries", "Event deliveries by status", labels=["status"]
        )
        counts = dict(
            EventDelivery.objects.exclude(status=DeliveryStatus.DONE)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        for status in DeliveryStatus:
            if status != DeliveryStatus.DONE:
                by_status.add_metric([status.value], counts.get(status.value, 0))
        yield by_status

        oldest = EventDelivery.objects.filter(status=DeliveryStatus.PENDING).aggregate(t=Min("created_at"))[
            "t"
        ]
        lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "carekit_event_delivery_lag_seconds", "Age of the oldest pending event delivery", value=lag
        )
        yield GaugeMetricFamily(
            "carekit_job_queue_depth", "Jobs waiting in the queue", value=huey.pending_count()
        )


REGISTRY.register(QueueCollector())


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        LATENCY.labels(request.method, route).observe(time.perf_counter() - start)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response
