"""Model instances as SQL fragments, for the few hot writes that combine several inserts into one
statement (data-modifying CTEs on PostgreSQL) instead of one ORM round trip each."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model


def insert_parts(obj: Model, *, computed: dict[str, str] | None = None) -> tuple[str, str, list[Any]]:
    """(column list, value list, parameters) to insert `obj` without its primary key.

    Values come from the instance, so defaults evaluated in Python are the ones stored; `computed`
    maps attribute names to SQL expressions that replace their placeholder (e.g. `{"entry_id": "e.id"}`
    to take a key from a row inserted earlier in the same statement). Only constants of the caller and
    model metadata end up in the SQL text; values travel as parameters.
    """
    computed = computed or {}
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(computed.get(f.attname, "%s") for f in fields)
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields if f.attname not in computed
    ]
    return columns, values, params
