"""Liveness, readiness (database, Redis, worker heartbeat) and Prometheus metrics."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from carekit.core.jobs import Heartbeat
from carekit.core.models import WorkerHeartbeat

pytestmark = [pytest.mark.django_db]


@pytest.mark.sqlite
def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.sqlite
def test_readyz_needs_a_fresh_worker_heartbeat(client):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"] == "ok"
    assert resp.json()["checks"]["worker"].startswith("fail")

    Heartbeat("test").beat()
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "checks": {"database": "ok", "worker": "ok"}}

    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=5))
    assert client.get("/readyz").status_code == 503


@pytest.mark.redis
def test_readyz_checks_redis_when_configured(client, settings):
    Heartbeat("test").beat()
    settings.REDIS_URL = os.environ["CAREKIT_TEST_REDIS_URL"]
    assert client.get("/readyz").json()["checks"]["redis"] == "ok"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["checks"]["redis"].startswith("fail")


@pytest.mark.sqlite
def test_metrics_expose_requests_queue_depth_and_delivery_lag(client, api):
    api.get("/teams")
    text = client.get("/metrics").content.decode()
    assert 'carekit_http_requests_total{method="GET",route="api/v1/teams",status="200"}' in text
    assert "carekit_event_delivery_lag_seconds" in text
    assert 'carekit_event_deliveries{status="dead"} 0.0' in text
    assert "carekit_job_queue_depth" in text
