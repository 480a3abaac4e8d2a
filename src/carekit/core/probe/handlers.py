"""Probe handlers: record effects, fail on demand, or hold on a file barrier (for kill tests)."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

from carekit.core.events import subscribe
from carekit.core.models import Event
from carekit.core.probe.models import ProbeEffect

_failures: Counter[int] = Counter()


@subscribe("probe.thing.happened", "bench.thing.happened", name="probe.record")
def record(event: Event) -> None:
    ProbeEffect.objects.create(event_id=event.pk, handler="probe.record")


@subscribe("probe.flaky.happened", name="probe.flaky")
def flaky(event: Event) -> None:
    """Fails the first `fail_times` runs in this process, after writing (so a leak would show)."""
    ProbeEffect.objects.create(event_id=event.pk, handler="probe.flaky")
    if _failures[event.pk] < int(event.payload.get("fail_times", 0)):
        _failures[event.pk] += 1
        raise RuntimeError(f"planned failure {_failures[event.pk]}")


@subscribe("probe.barrier.hit", name="probe.barrier")
def barrier(event: Event) -> None:
    """Writes its effect, then signals `started` and waits for `release` in PROBE_DIR."""
    ProbeEffect.objects.create(event_id=event.pk, handler="probe.barrier", note=str(os.getpid()))
    folder = Path(os.environ["PROBE_DIR"])
    (folder / f"started-{event.pk}").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while not (folder / f"release-{event.pk}").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("barrier never released")
        time.sleep(0.02)
