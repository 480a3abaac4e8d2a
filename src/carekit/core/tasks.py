"""Core jobs: event delivery and its sweeper."""

from __future__ import annotations

from carekit.core.events import delivery
from carekit.core.jobs import periodic, task

# Jobs return nothing: Huey would store every return value as a result nobody reads.


@task()
def process_deliveries(ids: list[int]) -> None:
    delivery.process(ids)


@task()
def drain_deliveries() -> None:
    delivery.drain()


@periodic(minute="*", description="recover expired leases and never-enqueued deliveries")
def sweep_deliveries() -> None:
    delivery.sweep()
