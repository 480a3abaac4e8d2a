"""`carekit backup`: a consistent snapshot of the database plus the files under var/, in one archive.

SQLite: the online backup API copies a consistent database while the app keeps running.
PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the per-table checksums are computed
in it and `pg_dump --snapshot` dumps exactly that snapshot, so the manifest describes the dump.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from carekit.core.ops import dbinfo
from carekit.core.ops.fingerprints import table_fingerprints

FORMAT = 1
# Never archived: databases and queues (they travel through the snapshot or are transient), earlier
# backups, collected static files, and the erasure journal, which must survive a restore unchanged.
SKIP_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")
SKIP_DIRS = {"backups", "static"}


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def _skip(rel: Path, journal: Path, var_dir: Path) -> bool:
    if rel.parts and rel.parts[0] in SKIP_DIRS:
        return True
    if (var_dir / rel).resolve() == journal.resolve():
        return True
    return rel.name.endswith(SKIP_SUFFIXES)


def _copy_var(var_dir: Path, dest: Path, journal: Path) -> list[str]:
    copied: list[str] = []
    if not var_dir.exists():
        return copied
    for path in sorted(var_dir.rglob("*")):
        rel = path.relative_to(var_dir)
        if path.is_dir() or _skip(rel, journal, var_dir):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(rel.as_posix())
    return copied


def _snapshot_sqlite(work: Path) -> dict[str, Any]:
    source = sqlite3.connect(str(dbinfo.settings_dict()["NAME"]))
    target = sqlite3.connect(str(work / "db.sqlite3"))
    try:
        source.backup(target)
        return table_fingerprints(target.cursor(), "sqlite")
    finally:
        target.close()
        source.close()


def _snapshot_postgres(work: Path) -> dict[str, Any]:
    conn = dbinfo.raw_connection()
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        fingerprints = table_fingerprints(conn.cursor(), "postgresql")
        # fixed argument list, no shell: the only variable parts are a snapshot id and our temp path
        subprocess.run(  # noqa: S603
            [
                dbinfo.pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-acl",
                f"--snapshot={snapshot}",
                "--file",
                str(work / "db.dump"),
            ],
            env={**os.environ, **dbinfo.libpq_env()},
            check=True,
            capture_output=True,
        )
        conn.rollback()
        return fingerprints
    finally:
        conn.close()


def create_backup(output_dir: Path, *, var_dir: Path | None = None) -> BackupResult:
    var_dir = Path(var_dir or settings.VAR_DIR)
    journal = Path(settings.ERASURE_JOURNAL_PATH)
    engine = dbinfo.engine()
    taken_at = timezone.now()
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="carekit-backup-") as tmp:
        work = Path(tmp)
        fingerprints = _snapshot_sqlite(work) if engine == "sqlite" else _snapshot_postgres(work)
        files = _copy_var(var_dir, work / "var", journal)
        applied = sorted(
            f"{a}.{n}" for a, n in MigrationRecorder.Migration.objects.values_list("app", "name")
        )
        manifest = {
            "format": FORMAT,
            "engine": engine,
            "taken_at": taken_at.isoformat(),
            "tables": fingerprints,
            "files": files,
            "migrations": applied,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        path = output_dir / f"carekit-backup-{taken_at:%Y%m%dT%H%M%S%fZ}.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            for item in sorted(work.iterdir()):
                tar.add(item, arcname=item.name)
    return BackupResult(path, manifest)
