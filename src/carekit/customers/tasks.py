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
