"""A test-only action that holds on a file barrier, so a kill test can stop a worker mid-action.

Registered only where core's probes are installed (tests, or CAREKIT_PROBES=1).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from carekit.scenarios.actions import ActionCall, ActionOutcome, Effects, action


def register() -> None:
    @action("probe.barrier", description="Tests only: wait for PROBE_DIR/release-<customer id>")
    def _barrier(call: ActionCall, fx: Effects) -> ActionOutcome:
        if fx.dry:
            return ActionOutcome("would_fire")
        folder = Path(os.environ["PROBE_DIR"])
        (folder / f"started-{call.customer_id}").write_text(str(os.getpid()))
        deadline = time.monotonic() + 120
        while not (folder / f"release-{call.customer_id}").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("barrier never released")
            time.sleep(0.02)
        return ActionOutcome("done")
