"""How to reach the configured database outside Django: a raw connection, libpq settings, its engine."""

from __future__ import annotations

import shutil
import sqlite3
from typing import Any

from django.db import connections


def engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise RuntimeError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def settings_dict(alias: str = "default") -> dict[str, Any]:
    return connections[alias].settings_dict


def libpq_env(alias: str = "default") -> dict[str, str]:
    s = settings_dict(alias)
    env = {"PGDATABASE": str(s["NAME"])}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    return env


def raw_connection(alias: str = "default") -> Any:
    """A new DB-API connection to the database (not Django's), for snapshots and fingerprints."""
    s = settings_dict(alias)
    if engine(alias) == "sqlite":
        return sqlite3.connect(str(s["NAME"]))
    import psycopg

    return psycopg.connect(
        dbname=s["NAME"],
        host=s.get("HOST") or None,
        port=s.get("PORT") or None,
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
    )


def pg_tool(name: str) -> str:
    """The absolute path of a PostgreSQL client tool (pg_dump, pg_restore); they must match the server."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed; install the PostgreSQL client tools")
    return path
