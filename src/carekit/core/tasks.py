"""Core jobs: event delivery and its sweeper."""

from __future__ import annotations

from carekit.core.events import delivery
from carekit.core.jobs import periodic, task


@task()
def process_deliveries(ids: list[int]) -> dict[str, int]:
    return delivery.process(ids)


@periodic(minute="*", description="recover expired leases and never-enqueued deliveries")
def sweep_deliveries() -> dict[str, int]:
    return delivery.sweep()
