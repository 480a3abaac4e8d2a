"""Background jobs of customers. Thin: load by id, call a service in a durable transaction."""

from __future__ import annotations

from django.db import transaction

from carekit.core.jobs import periodic, task
from carekit.customers import cabinet
from carekit.customers.models import DataExport


@task(retries=3, retry_delay=10)
def build_export(export_pk: int) -> None:
    with transaction.atomic(durable=True):
        export = (
            DataExport.objects.select_for_update().select_related("customer").filter(pk=export_pk).first()
        )
        if export is not None:
            cabinet.export_build(export=export)


@periodic(minute="17", description="Delete customers' data exports older than 7 days")
def expire_exports() -> None:
    with transaction.atomic(durable=True):
        cabinet.exports_expire()


@task()
def run_import(job_pk: int) -> None:
    """Validate, then write; each step in its own transaction so the page can show progress.

    Skip mode commits batch by batch (a batch never holds a bad row: rows are checked first);
    all-or-nothing writes every batch in one transaction.
    """
    from carekit.core.errors import DomainError
    from carekit.core.events import Actor
    from carekit.customers import import_jobs, importing, importing_orders
    from carekit.customers.enums import ImportStatus
    from carekit.customers.models import ImportJob

    job = ImportJob.objects.select_related("workspace").filter(pk=job_pk, status=ImportStatus.PENDING).first()
    if job is None:
        return
    actor = Actor.system(f"import:{job.public_id}")
    text = (import_jobs.import_dir() / job.file_name).read_text(encoding="utf-8")

    def progress(status: str):
        def report(done: int, total: int) -> None:
            with transaction.atomic(durable=True):
                import_jobs.import_job_progress(job=job, status=status, done=done, total=total)

        return report

    try:
        if job.what == "orders":  # orders go row by row in one transaction
            with transaction.atomic(durable=True):
                result = importing_orders.orders_import(
                    actor=actor, workspace=job.workspace, text=text, mode=job.mode, dry_run=job.dry_run
                )
        else:
            progress(ImportStatus.VALIDATING)(0, 0)
            good, result = importing.customers_validate(
                workspace=job.workspace,
                text=text,
                dry_run=job.dry_run,
                progress=progress(ImportStatus.VALIDATING),
            )
            if importing.settle(result, good, job.mode):
                done = 0
                one_transaction = job.mode == "all_or_nothing"
                with transaction.atomic(durable=True) if one_transaction else _nothing():
                    for batch in importing.batches(good):
                        with _nothing() if one_transaction else transaction.atomic(durable=True):
                            created, updated = importing.write_batch(
                                actor=actor, workspace=job.workspace, rows=batch
                            )
                        result.imported += created
                        result.updated += updated
                        done += len(batch)
                        if not one_transaction:
                            progress(ImportStatus.WRITING)(done, len(good))
    except (DomainError, OSError) as exc:
        with transaction.atomic(durable=True):
            import_jobs.import_job_finish(job=job, report=None, error=str(exc))
        return
    with transaction.atomic(durable=True):
        import_jobs.import_job_finish(job=job, report=result)


def _nothing():
    import contextlib

    return contextlib.nullcontext()
