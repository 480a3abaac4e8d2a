"""Per-table row counts and checksums, computed on a raw DB-API connection of one engine.

Both sides of a comparison (the snapshot taken at backup, the database after restore) are read the
same way, so the checksums compare the stored values, not a driver's conversions.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import json
import uuid
from typing import Any

Fingerprints = dict[str, dict[str, Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


def _tables(cursor: Any, engine: str) -> list[str]:
    if engine == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return sorted(r[0] for r in cursor.fetchall())


def table_fingerprints(cursor: Any, engine: str) -> Fingerprints:
    """{table: {"rows": n, "sha256": hex}} for every table, rows ordered by all their columns."""
    out: Fingerprints = {}
    for table in _tables(cursor, engine):
        quoted = '"' + table.replace('"', '""') + '"'
        cursor.execute(f"SELECT * FROM {quoted} LIMIT 0")  # noqa: S608  # table names come from the catalogue
        width = len(cursor.description)
        order = ", ".join(str(i) for i in range(1, width + 1))
        cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
        digest = hashlib.sha256()
        rows = 0
        for row in cursor.fetchall():
            digest.update(json.dumps(list(row), default=_plain, sort_keys=True).encode())
            digest.update(b"\n")
            rows += 1
        out[table] = {"rows": rows, "sha256": digest.hexdigest()}
    return out


def differences(expected: Fingerprints, actual: Fingerprints) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if expected.get(table) != actual.get(table):
            problems.append(f"{table}: expected {expected.get(table)}, found {actual.get(table)}")
    return problems
