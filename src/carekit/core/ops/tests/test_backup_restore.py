"""Backup then restore into an empty database: every table's rows and checksums, files, and erasures."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction

from carekit.core.events import Actor
from carekit.core.ops import dbinfo, erasure
from carekit.core.ops.backup import create_backup
from carekit.core.ops.fingerprints import table_fingerprints
from carekit.core.ops.models import ErasureRecord
from carekit.core.ops.restore import RestoreError, restore_backup
from carekit.core.probe.models import ProbeEffect
from carekit.testing.tenants import add_member, api_caller, make_workspace

ACTOR = Actor.system("test")


def _erase_probe(workspace_id: int, subject_id: str) -> None:
    ProbeEffect.objects.filter(note=subject_id).delete()


def _fingerprints() -> dict:
    conn = dbinfo.raw_connection()
    try:
        return table_fingerprints(conn.cursor(), dbinfo.engine())
    finally:
        conn.close()


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[None]:
    """Point the default connection at a new, empty database for the duration."""
    conn = connections["default"]
    original = conn.settings_dict["NAME"]
    _disconnect(conn)
    if dbinfo.engine() == "sqlite":
        conn.settings_dict["NAME"] = str(tmp_path / f"restored-{uuid.uuid4().hex}.sqlite3")
        created = None
    else:
        created = f"{original}_restore"
        _admin(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{created}"')
        conn.settings_dict["NAME"] = created
    try:
        yield
    finally:
        _disconnect(conn)
        conn.settings_dict["NAME"] = original
        if created:
            _admin(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def _disconnect(conn) -> None:
    """Close the connection and, on PostgreSQL, its pool, which would keep serving the old database."""
    conn.close()
    if getattr(conn, "pool", None) is not None:
        conn.close_pool()


def _admin(sql: str) -> None:
    import psycopg

    s = dbinfo.settings_dict()
    with psycopg.connect(
        dbname="postgres",
        host=s.get("HOST") or None,
        port=s.get("PORT") or None,
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        autocommit=True,
    ) as c:
        c.execute(sql)


@pytest.fixture
def shop(transactional_db, tmp_path, settings):
    settings.ERASURE_JOURNAL_PATH = str(tmp_path / "erasure-journal.jsonl")
    erasure.register_erasure_applier("probe_subject", _erase_probe)
    ws = make_workspace("Backup shop")
    add_member(ws)
    api_caller(ws)
    with transaction.atomic():
        for note in ("cus_keep", "cus_erase", "cus_erase"):
            ProbeEffect.objects.create(event_id=1, handler="probe.test", note=note)
    var = tmp_path / "var"
    (var / "uploads").mkdir(parents=True)
    (var / "uploads" / "logo.png").write_bytes(b"\x89PNG fake")
    (var / "mail").mkdir()
    (var / "mail" / "1.eml").write_text("Subject: hi\n\nbody\n")
    (var / "carekit.sqlite3").write_bytes(b"not archived")
    (var / "backups").mkdir()
    (var / "backups" / "old.tar.gz").write_bytes(b"not archived")
    yield ws, var
    erasure.unregister_erasure_applier("probe_subject")


@pytest.mark.sqlite
@pytest.mark.slow
def test_backup_then_restore_reproduces_every_row_and_reapplies_later_erasures(shop, tmp_path):
    _ws, var = shop
    before = _fingerprints()
    assert before["probe_probeeffect"]["rows"] == 3
    result = create_backup(tmp_path / "out", var_dir=var)
    assert result.manifest["tables"] == before
    assert result.manifest["files"] == ["mail/1.eml", "uploads/logo.png"]

    with transaction.atomic():  # erased after the backup was taken
        ProbeEffect.objects.filter(note="cus_erase").delete()
        erasure.erasure_record(
            actor=ACTOR, workspace_id=1, subject_type="probe_subject", subject_id="cus_erase"
        )

    restored_var = tmp_path / "restored-var"
    with empty_database(tmp_path):
        report = restore_backup(result.path, var_dir=restored_var)
        after = _fingerprints()
        notes = sorted(ProbeEffect.objects.values_list("note", flat=True))
        erasures = list(ErasureRecord.objects.values_list("subject_id", flat=True))
    assert (report.tables, report.rows, report.files) == (
        len(before),
        sum(t["rows"] for t in before.values()),
        2,
    )
    assert report.erasures_reapplied == 1
    changed = {"probe_probeeffect", "ops_erasurerecord"}
    assert {t: v for t, v in after.items() if t not in changed} == {
        t: v for t, v in before.items() if t not in changed
    }
    assert notes == ["cus_keep"]
    assert erasures == ["cus_erase"]
    assert (restored_var / "uploads" / "logo.png").read_bytes() == b"\x89PNG fake"
    assert sorted(p.name for p in restored_var.rglob("*") if p.is_file()) == ["1.eml", "logo.png"]


@pytest.mark.sqlite
@pytest.mark.slow
def test_restore_refuses_a_database_that_is_not_empty(shop, tmp_path):
    _ws, var = shop
    result = create_backup(tmp_path / "out", var_dir=var)
    before = _fingerprints()
    with pytest.raises(RestoreError, match="not empty"):
        restore_backup(result.path, var_dir=tmp_path / "v2")
    assert _fingerprints() == before
    assert not (tmp_path / "v2").exists()


@pytest.mark.sqlite
def test_commands_report_and_upgrade_preflight_passes(shop, tmp_path):
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "b"), stdout=out)
    assert "Backup written to" in out.getvalue()
    check = io.StringIO()
    call_command("upgrade", "--check", stdout=check)
    assert check.getvalue().strip() == "Pending migrations: none"
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(next((tmp_path / "b").iterdir())))


@pytest.mark.sqlite
def test_upgrade_reports_pending_migrations_then_applies_them(transactional_db):
    call_command("migrate", "ops", "zero", verbosity=0)
    check = io.StringIO()
    call_command("upgrade", "--check", stdout=check)
    assert check.getvalue().strip() == "Pending migrations: ops.0001_initial"
    assert "ops_erasurerecord" not in connections["default"].introspection.table_names()
    out = io.StringIO()
    call_command("upgrade", "--no-backup", stdout=out)
    assert "Applied 1 migration(s)." in out.getvalue()
    assert "ops_erasurerecord" in connections["default"].introspection.table_names()
