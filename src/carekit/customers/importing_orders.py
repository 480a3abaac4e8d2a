"""CSV import of orders: one upsert per row by external id, after every row has been validated.

Columns: external_id, status, currency, total, and the customer as `customer_id`, `email`, `phone` or
`customer_external_id`; optional placed_at, paid_at, promised_at, shipped_at, delivered_at (ISO 8601
with a zone), carrier, tracking_number, items (`sku:quantity:price[:category]` separated by `;`).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.customers import normalize
from carekit.customers.enums import IdentityKind, OrderStatus
from carekit.customers.errors import InvalidValue
from carekit.customers.importing import ImportReport, Progress, RowError
from carekit.customers.orders import ItemInput, OrderInput, order_upsert
from carekit.customers.services import region_of

COLUMNS = frozenset(
    {
        "external_id", "status", "currency", "total", "customer_id", "email", "phone",
        "customer_external_id", "placed_at", "paid_at", "promised_at", "shipped_at", "delivered_at",
        "carrier", "tracking_number", "items",
    }
)  # fmt: skip
TIMES = ("placed_at", "paid_at", "promised_at", "shipped_at", "delivered_at")


def _row(line: int, raw: dict[str, str], region: str) -> OrderInput | list[RowError]:
    errors: list[RowError] = []
    get = lambda k: (raw.get(k) or "").strip()  # noqa: E731
    if not get("external_id"):
        errors.append(RowError(line, "external_id", _("An order needs an external id.")))
    if get("status") not in OrderStatus.values:
        errors.append(RowError(line, "status", _("Unknown order status.")))
    currency = get("currency").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors.append(RowError(line, "currency", _("A currency is a three-letter code.")))
    try:
        total = Decimal(get("total"))
        if not total.is_finite() or total < 0:
            raise InvalidOperation
    except InvalidOperation:
        errors.append(RowError(line, "total", _("Expected a non-negative amount.")))
        total = Decimal(0)
    identity: tuple[str, str] | None = None
    try:
        if get("email"):
            identity = (IdentityKind.EMAIL, normalize.email(get("email")))
        elif get("phone"):
            identity = (IdentityKind.PHONE, normalize.phone(get("phone"), region=region))
        elif get("customer_external_id"):
            identity = (IdentityKind.EXTERNAL, get("customer_external_id"))
        elif not get("customer_id"):
            errors.append(RowError(line, "email", _("An order needs a customer.")))
    except InvalidValue as exc:
        errors.append(RowError(line, exc.field or "email", exc.message))
    times: dict[str, datetime | None] = {}
    for key in TIMES:
        try:
            value = datetime.fromisoformat(get(key)) if get(key) else None
            if value is not None and value.tzinfo is None:
                raise ValueError
            times[key] = value
        except ValueError:
            errors.append(RowError(line, key, _("Expected a time with a zone (ISO 8601).")))
    items = []
    for part in [p for p in get("items").split(";") if p.strip()]:
        bits = [b.strip() for b in part.split(":")]
        try:
            items.append(
                ItemInput(
                    sku=bits[0], quantity=int(bits[1]), price=Decimal(bits[2]), category=(bits[3:] or [""])[0]
                )
            )
        except (IndexError, ValueError, InvalidOperation):
            errors.append(
                RowError(line, "items", _("Items are sku:quantity:price[:category] separated by ;."))
            )
            break
    if errors:
        return errors
    return OrderInput(
        external_id=get("external_id"),
        status=get("status"),
        currency=currency,
        total=total,
        customer_id=(get("customer_id") or None) if identity is None else None,
        identity=identity,
        items=items or None,
        carrier=get("carrier") or None,
        tracking_number=get("tracking_number") or None,
        placed_at=times["placed_at"],
        paid_at=times["paid_at"],
        promised_at=times["promised_at"],
        shipped_at=times["shipped_at"],
        delivered_at=times["delivered_at"],
    )


def orders_import(
    *,
    actor: Actor,
    workspace: Workspace,
    text: str,
    mode: str = "skip",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import orders from CSV text. A row that fails while writing is reported and rolled back alone."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    if not header or unknown:
        raise InvalidValue(
            _("Unknown column: %(name)s") % {"name": (unknown or ["csv"])[0]}, field=(unknown or ["csv"])[0]
        )
    region = region_of(workspace.pk)
    report = ImportReport(dry_run=dry_run)
    good: list[tuple[int, OrderInput]] = []
    for line, raw in enumerate(reader, start=2):
        report.rows += 1
        result = _row(line, raw, region)
        if isinstance(result, list):
            report.errors.extend(result)
            report.skipped += 1
        else:
            good.append((line, result))
    if mode == "all_or_nothing" and report.errors:
        report.skipped = report.rows
        return report
    if dry_run:
        report.imported = len(good)
        return report
    for n, (line, data) in enumerate(good, start=1):
        try:
            with transaction.atomic():  # a savepoint per row: a row that fails changes nothing
                up = order_upsert(actor=actor, workspace=workspace, data=data)
        except InvalidValue as exc:
            if mode == "all_or_nothing":
                raise
            report.errors.append(RowError(line, exc.field or "", exc.message))
            report.skipped += 1
            continue
        if up.created:
            report.imported += 1
        else:
            report.updated += 1
        if progress and (n % 500 == 0 or n == len(good)):
            progress(n, len(good))
    return report
