"""`carekit upgrade`: pre-flight checks, an optional backup, then migrations."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState

from carekit.core.ops import dbinfo


@dataclass
class Preflight:
    pending: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def preflight() -> Preflight:
    """What `migrate` would apply, and every reason not to run it now."""
    report = Preflight()
    connection = connections["default"]
    try:
        connection.ensure_connection()
    except Exception as exc:  # any driver error means "cannot reach the database"; say which
        report.problems.append(f"database unreachable: {exc}")
        return report
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    conflicts = loader.detect_conflicts()
    if conflicts:
        report.problems.append(f"conflicting migrations (merge them first): {conflicts}")
        return report
    changes = MigrationAutodetector(
        loader.project_state(), ProjectState.from_apps(apps), NonInteractiveMigrationQuestioner()
    ).changes(graph=loader.graph)
    if changes:
        report.problems.append(f"models changed without migrations in: {', '.join(sorted(changes))}")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    report.pending = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
    if any(backwards for _m, backwards in plan):
        report.problems.append("the plan would unapply migrations; this code is older than the database")
    if dbinfo.engine() == "sqlite":
        db = Path(dbinfo.settings_dict()["NAME"])
        size = db.stat().st_size if db.exists() else 0
        free = shutil.disk_usage(db.parent if db.parent.exists() else settings.VAR_DIR).free
        if free < 2 * size + 50 * 1024 * 1024:  # room for a backup copy and SQLite's table rebuilds
            report.problems.append(f"not enough free disk: {free} bytes free, database is {size} bytes")
    return report
