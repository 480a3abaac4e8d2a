"""Liveness, readiness and metrics endpoints (unauthenticated; expose no tenant data)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from carekit.core.metrics import REGISTRY
from carekit.core.models import WorkerHeartbeat

HEARTBEAT_FRESH = timedelta(seconds=30)


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _check_worker() -> str:
    fresh = WorkerHeartbeat.objects.filter(beat_at__gte=timezone.now() - HEARTBEAT_FRESH).exists()
    if not fresh:
        raise RuntimeError("no worker heartbeat in the last 30 s")
    return "ok"


def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    probes = [("database", _check_database), ("worker", _check_worker)]
    if settings.REDIS_URL:
        probes.insert(1, ("redis", _check_redis))
    ok = True
    for name, probe in probes:
        try:
            checks[name] = probe()
        except Exception as exc:  # every failure becomes a readable check result, never a 500
            checks[name] = f"fail: {exc}"
            ok = False
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
