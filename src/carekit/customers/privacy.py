"""Export and erasure across every context, through the registries."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from carekit.core.events import Actor, emit
from carekit.customers.enums import CustomerStatus
from carekit.customers.models import Customer
from carekit.customers.registry import ERASURE_PROVIDERS, EXPORT_PROVIDERS


def customer_export_data(workspace_id: int, customer_id: str) -> dict[str, Any]:
    """Every context's JSON-able section about the customer, keyed by provider name."""
    return {name: EXPORT_PROVIDERS[name](workspace_id, customer_id) for name in sorted(EXPORT_PROVIDERS)}


def customer_erase(*, actor: Actor, customer: Customer) -> None:
    """Anonymize the customer's personal data in every context; non-personal aggregates stay.

    On SQLite a WAL checkpoint runs after commit, so erased values do not linger in the log
    (`secure_delete` is on for every connection, so freed pages are zeroed).
    """
    if customer.status == CustomerStatus.ERASED:
        return
    for name in sorted(ERASURE_PROVIDERS):
        ERASURE_PROVIDERS[name](customer.workspace_id, customer.public_id)
    emit(
        workspace_id=customer.workspace_id,
        type="customers.customer.erased",
        subject_type="customer",
        subject_id=customer.public_id,
        actor=actor,
        payload={"customer_id": customer.public_id},
    )
    if connection.vendor == "sqlite":
        transaction.on_commit(wal_checkpoint)


def wal_checkpoint() -> None:
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
