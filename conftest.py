"""Suite-wide rules: servers a test needs, and no silent skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ALLOWED_SKIPS_FILE = Path(__file__).parent / "tests" / "allowed-skips.txt"


def _allowed_skips() -> set[str]:
    if not ALLOWED_SKIPS_FILE.exists():
        return set()
    lines = ALLOWED_SKIPS_FILE.read_text().splitlines()
    return {ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()}


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need a server this run does not have are deselected (and reported), never skipped."""
    keep, dropped = [], []
    redis = bool(os.environ.get("CAREKIT_TEST_REDIS_URL"))
    for item in items:
        if (item.get_closest_marker("redis") and not redis) or (item.get_closest_marker("postgres") and not _on_postgres()):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
        reason = "CAREKIT_TEST_REDIS_URL unset" if not redis else "not on PostgreSQL"
        config._carekit_deselected = (len(dropped), reason)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    info = getattr(config, "_carekit_deselected", None)
    if info:
        terminalreporter.write_line(f"carekit: deselected {info[0]} test(s) needing servers ({info[1]})")
    allowed = _allowed_skips()
    bad = [r.nodeid for r in terminalreporter.stats.get("skipped", []) if r.nodeid not in allowed]
    if bad:
        terminalreporter.write_line("carekit: skipped tests not on tests/allowed-skips.txt (this fails the run):")
        for nodeid in bad:
            terminalreporter.write_line(f"  {nodeid}")
        config._carekit_bad_skips = bad  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    allowed = _allowed_skips()
    if reporter is not None:
        bad = [r.nodeid for r in reporter.stats.get("skipped", []) if r.nodeid not in allowed]
        if bad and session.exitstatus == 0:
            session.exitstatus = 1


@pytest.fixture
def workspace(db):
    from carekit.testing.tenants import make_workspace

    return make_workspace("Own shop")


@pytest.fixture
def other_workspace(db):
    from carekit.testing.tenants import make_workspace

    return make_workspace("Other shop")


@pytest.fixture
def api(workspace):
    from carekit.testing.tenants import api_caller

    return api_caller(workspace)
