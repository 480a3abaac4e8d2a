"""Export and erasure across every context, through the registries."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction

from carekit.core.events import Actor, emit
from carekit.customers.enums import CustomerStatus
from carekit.customers.models import Contact, Customer
from carekit.customers.registry import ERASURE_PROVIDERS, EXPORT_PROVIDERS

logger = logging.getLogger(__name__)


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
    values = list(Contact.objects.filter(customer=customer).values_list("value", flat=True))
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
    if settings.EMAIL_TRANSPORT == "file" and values:
        transaction.on_commit(lambda: purge_mail_files(values))


def purge_mail_files(values: list[str]) -> int:
    """Embedded mode keeps sent mail as files under var/mail: remove those naming the customer."""
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return 0
    removed = 0
    needles = [v.lower().encode() for v in values]
    for path in folder.iterdir():
        if path.is_file() and any(n in path.read_bytes().lower() for n in needles):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def wal_checkpoint() -> None:
    """Best effort: a busy reader can block it; SQLite checkpoints on its own later."""
    try:
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except OperationalError:
        logger.warning("WAL checkpoint after an erasure was blocked; it will happen at the next checkpoint")
