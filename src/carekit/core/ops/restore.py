"""`carekit restore`: load a backup into an empty database, verify it, then re-apply newer erasures."""

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
from django.db import connections, transaction

from carekit.core.ops import dbinfo, erasure
from carekit.core.ops.backup import FORMAT
from carekit.core.ops.fingerprints import differences, table_fingerprints


class RestoreError(Exception):
    pass


@dataclass(frozen=True)
class RestoreResult:
    tables: int
    rows: int
    files: int
    erasures_reapplied: int


def _extract(archive: Path, into: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(into, filter="data")
    manifest = json.loads((into / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise RestoreError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def _database_is_empty(engine: str) -> bool:
    if engine == "sqlite":
        path = Path(dbinfo.settings_dict()["NAME"])
        if not path.exists() or path.stat().st_size == 0:
            return True
    conn = dbinfo.raw_connection()
    try:
        cur = conn.cursor()
        if engine == "sqlite":
            cur.execute("SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        else:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return cur.fetchone()[0] == 0
    finally:
        conn.close()


def _load_sqlite(work: Path) -> None:
    target = Path(dbinfo.settings_dict()["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(str(work / "db.sqlite3"))
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def _load_postgres(work: Path) -> None:
    done = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        [
            dbinfo.pg_tool("pg_restore"),
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(dbinfo.settings_dict()["NAME"]),
            str(work / "db.dump"),
        ],
        env={**os.environ, **dbinfo.libpq_env()},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RestoreError(f"pg_restore failed: {done.stderr.strip()[:2000]}")


def _verify(engine: str, expected: dict[str, Any]) -> tuple[int, int]:
    conn = dbinfo.raw_connection()
    try:
        actual = table_fingerprints(conn.cursor(), engine)
    finally:
        conn.close()
    problems = differences(expected, actual)
    if problems:
        raise RestoreError("the restored database differs from the backup:\n" + "\n".join(problems[:20]))
    return len(actual), sum(t["rows"] for t in actual.values())


def _restore_files(work: Path, var_dir: Path, names: list[str]) -> int:
    root = var_dir.resolve()
    for name in names:
        target = var_dir / name
        if not target.resolve().is_relative_to(root):  # an edited manifest must not write elsewhere
            raise RestoreError(f"the backup names a file outside var/: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / "var" / name, target)
    return len(names)


def restore_backup(
    archive: Path, *, var_dir: Path | None = None, extra_journals: list[Path] | None = None
) -> RestoreResult:
    """Restore `archive` into the configured database, which must be empty (no tables)."""
    engine = dbinfo.engine()
    var_dir = Path(var_dir or settings.VAR_DIR)
    with tempfile.TemporaryDirectory(prefix="carekit-restore-") as tmp:
        work = Path(tmp)
        manifest = _extract(archive, work)
        if manifest["engine"] != engine:
            raise RestoreError(f"the backup is of {manifest['engine']}, the configured database is {engine}")
        connections["default"].close()
        if not _database_is_empty(engine):
            raise RestoreError(
                "the target database is not empty; restore into a new, empty database "
                "(create it, point DATABASE_URL at it, and do not run migrate first)"
            )
        _load_sqlite(work) if engine == "sqlite" else _load_postgres(work)
        tables, rows = _verify(engine, manifest["tables"])
        files = _restore_files(work, var_dir, manifest["files"])
    journals = [Path(settings.ERASURE_JOURNAL_PATH), *(extra_journals or [])]
    with transaction.atomic(durable=True):
        reapplied = erasure.reapply_missing(erasure.read_journal(journals))
    return RestoreResult(tables=tables, rows=rows, files=files, erasures_reapplied=len(reapplied))
