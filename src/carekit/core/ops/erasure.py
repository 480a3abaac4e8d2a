"""The erasure journal, so that restoring an older backup cannot bring erased personal data back.

Contexts that erase personal data (customers first) do two things:

1. at start-up, `register_erasure_applier("customer", erase)` where `erase(workspace_id, subject_id)`
   removes the data again and is idempotent (it may run on a database that no longer has it);
2. in the erasing service, inside its transaction, `erasure_record(actor=..., workspace_id=...,
   subject_type="customer", subject_id=customer_public_id)`.

The row is written with the erasure; after commit it is also appended (and fsynced) to the journal
file `ERASURE_JOURNAL_PATH`, which lives outside the database and is neither backed up nor restored.
`carekit restore` replays every journal entry that the restored database does not have yet.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from carekit.core.events import Actor
from carekit.core.ops.models import ErasureRecord

logger = logging.getLogger(__name__)

Applier = Callable[[int, str], None]
_APPLIERS: dict[str, Applier] = {}


def register_erasure_applier(subject_type: str, apply: Applier) -> None:
    _APPLIERS[subject_type] = apply


def unregister_erasure_applier(subject_type: str) -> None:
    _APPLIERS.pop(subject_type, None)


@dataclass(frozen=True)
class JournalEntry:
    key: str
    workspace_id: int
    subject_type: str
    subject_id: str
    recorded_at: str


def journal_path() -> Path:
    return Path(settings.ERASURE_JOURNAL_PATH)


def erasure_record(*, actor: Actor, workspace_id: int, subject_type: str, subject_id: str) -> ErasureRecord:
    """Record an erasure in the caller's transaction; it reaches the journal file after commit."""
    if subject_type not in _APPLIERS:
        raise ValueError(f"no erasure applier registered for {subject_type!r}")
    row = ErasureRecord.objects.create(
        workspace_id=workspace_id, subject_type=subject_type, subject_id=subject_id
    )
    entry = JournalEntry(str(row.key), workspace_id, subject_type, subject_id, row.recorded_at.isoformat())
    transaction.on_commit(lambda: append_to_journal(entry))
    return row


def append_to_journal(entry: JournalEntry, path: Path | None = None) -> None:
    path = path or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry.__dict__, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read_journal(paths: Iterable[Path]) -> list[JournalEntry]:
    seen: dict[str, JournalEntry] = {}
    for path in paths:
        if not path.exists():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                entry = JournalEntry(
                    str(uuid.UUID(raw["key"])),
                    int(raw["workspace_id"]),
                    raw["subject_type"],
                    raw["subject_id"],
                    raw["recorded_at"],
                )
            except (ValueError, KeyError, TypeError):
                # a torn last line after a crash: the entry's own transaction still has the row
                logger.warning("skipping unreadable erasure journal line %s:%s", path, n)
                continue
            seen.setdefault(entry.key, entry)
    return sorted(seen.values(), key=lambda e: e.recorded_at)


def reapply_missing(entries: Iterable[JournalEntry]) -> list[JournalEntry]:
    """Apply every journal entry the current database does not hold; returns those applied.

    Runs in the caller's transaction. An entry without an applier fails loudly: data would stay.
    """
    entries = list(entries)
    keys = [uuid.UUID(e.key) for e in entries]
    known = {str(k) for k in ErasureRecord.objects.filter(key__in=keys).values_list("key", flat=True)}
    applied = []
    for entry in entries:
        if entry.key in known:
            continue
        apply = _APPLIERS.get(entry.subject_type)
        if apply is None:
            raise LookupError(f"no erasure applier registered for {entry.subject_type!r}; cannot re-erase")
        apply(entry.workspace_id, entry.subject_id)
        ErasureRecord.objects.create(
            key=uuid.UUID(entry.key),
            workspace_id=entry.workspace_id,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            recorded_at=entry.recorded_at,
        )
        applied.append(entry)
    return applied
