"""Background CSV imports with progress for the web UI (the command and the API import inline)."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.customers.enums import ImportStatus
from carekit.customers.errors import InvalidValue
from carekit.customers.importing import ImportReport
from carekit.customers.models import ImportJob

MAX_BYTES = 200 * 1024 * 1024


def import_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_job_create(
    *, actor: Actor, workspace: Workspace, what: str, data: bytes, mode: str, dry_run: bool
) -> ImportJob:
    """Store the file and queue the job after commit."""
    from carekit.customers.tasks import run_import

    if what not in ("customers", "orders"):
        raise InvalidValue(_("Unknown import kind."), field="what")
    if mode not in ("skip", "all_or_nothing"):
        raise InvalidValue(_("Unknown mode."), field="mode")
    if not data or len(data) > MAX_BYTES:
        raise InvalidValue(_("The file is empty or too large."), field="file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue(_("The file is not UTF-8 text."), field="file") from None
    name = f"{secrets.token_hex(12)}.csv"
    (import_dir() / name).write_bytes(data)
    job = ImportJob.objects.create(
        workspace=workspace, what=what, mode=mode, dry_run=dry_run, file_name=name, actor=str(actor)[:80]
    )
    transaction.on_commit(lambda: run_import(job.pk))
    return job


def import_job_progress(*, job: ImportJob, status: str, done: int, total: int) -> None:
    ImportJob.objects.filter(pk=job.pk).update(status=status, done=done, total=total)


def import_job_finish(*, job: ImportJob, report: ImportReport | None, error: str = "") -> None:
    """Record the outcome and delete the uploaded file (it holds personal data)."""
    if job.file_name:
        (import_dir() / job.file_name).unlink(missing_ok=True)
    data = asdict(report) if report is not None else {"failure": error}
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED if report is None else ImportStatus.DONE,
        report=data,
        file_name="",
        finished_at=timezone.now(),
    )
