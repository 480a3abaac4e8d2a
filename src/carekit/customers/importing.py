"""CSV import of customers: validate every row first, then write in batches.

A bad row is reported (row, field, reason) and writes nothing. In "skip" mode the good rows are
imported; in "all_or_nothing" mode one bad row stops the whole file before anything is written.
Rows whose email or external id already belongs to a profile update that profile.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.events import Actor, EventSpec, emit_many
from carekit.core.models import Workspace
from carekit.customers import bulk, normalize
from carekit.customers.enums import ContactKind, CustomerStatus, IdentityKind
from carekit.customers.errors import InvalidValue
from carekit.customers.models import Contact, Customer, Identity
from carekit.customers.services import ProfileInput, attribute_definitions, customer_update, region_of

BATCH = 5000
TEXT_COLUMNS = ("first_name", "last_name", "company", "address", "language", "time_zone", "age_band")
COLUMNS = frozenset(
    {*TEXT_COLUMNS, "email", "phone", "birth_date", "tags", "external_id", "preferred_channel"}
)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file; the header is line 1
    field: str
    reason: str


@dataclass
class CleanRow:
    row: int
    fields: dict[str, Any]
    emails: list[str]
    phones: list[str]
    external_id: str
    tags: list[str]
    attributes: dict[str, Any]


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", ";").split(";") if v.strip()]


class RowValidator:
    def __init__(self, workspace_id: int, header: list[str]) -> None:
        self.region = region_of(workspace_id)
        self.definitions = attribute_definitions(workspace_id)
        unknown = [h for h in header if h not in COLUMNS and not h.startswith("attr:")]
        if unknown:
            raise InvalidValue(_("Unknown column: %(name)s") % {"name": unknown[0]}, field=unknown[0])
        for h in header:
            if h.startswith("attr:") and h[5:] not in self.definitions:
                raise InvalidValue(_("Unknown attribute column: %(name)s") % {"name": h}, field=h)
        self.seen_email: dict[str, int] = {}
        self.seen_external: dict[str, int] = {}

    def __call__(self, line: int, raw: dict[str, str]) -> CleanRow | list[RowError]:
        errors: list[RowError] = []
        fields: dict[str, Any] = {}
        for key in TEXT_COLUMNS:
            if raw.get(key):
                fields[key] = raw[key].strip()
        emails, phones, attrs = [], [], {}
        for value in _split(raw.get("email") or ""):
            try:
                emails.append(normalize.email(value, field="email"))
            except InvalidValue as exc:
                errors.append(RowError(line, "email", exc.message))
        for value in _split(raw.get("phone") or ""):
            try:
                phones.append(normalize.phone(value, region=self.region, field="phone"))
            except InvalidValue as exc:
                errors.append(RowError(line, "phone", exc.message))
        if raw.get("birth_date"):
            try:
                fields["birth_date"] = date.fromisoformat(raw["birth_date"].strip())
            except ValueError:
                errors.append(RowError(line, "birth_date", _("Expected a date (YYYY-MM-DD).")))
        for key, value in raw.items():
            if key and key.startswith("attr:") and value not in (None, ""):
                type_, choices = self.definitions[key[5:]]
                try:
                    attrs[key[5:]] = normalize.attribute(type_, choices, value, field=key)
                except InvalidValue as exc:
                    errors.append(RowError(line, key, exc.message))
        external = (raw.get("external_id") or "").strip()
        if not (emails or phones or external or fields.get("first_name") or fields.get("last_name")):
            errors.append(
                RowError(line, "email", _("A row needs a name, an email, a phone or an external id."))
            )
        for e in emails:
            if e in self.seen_email:
                errors.append(
                    RowError(line, "email", _("Same email as line %(n)d.") % {"n": self.seen_email[e]})
                )
        if external and external in self.seen_external:
            errors.append(
                RowError(
                    line,
                    "external_id",
                    _("Same external id as line %(n)d.") % {"n": self.seen_external[external]},
                )
            )
        if errors:
            return errors
        for e in emails:
            self.seen_email[e] = line
        if external:
            self.seen_external[external] = line
        if raw.get("preferred_channel"):
            fields["preferred_channel"] = raw["preferred_channel"].strip()[:20]
        tags = normalize.tags(_split(raw.get("tags") or ""))
        return CleanRow(
            line, fields, list(dict.fromkeys(emails)), list(dict.fromkeys(phones)), external, tags, attrs
        )


def _batches(items: Iterable[CleanRow], size: int) -> Iterator[list[CleanRow]]:
    batch: list[CleanRow] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def customers_validate(
    *, workspace: Workspace, text: str, dry_run: bool = False, progress: Progress | None = None
) -> tuple[list[CleanRow], ImportReport]:
    """Validate every row (reads only): the good rows, and a report listing the bad ones."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if not header:
        raise InvalidValue(_("The file has no header row."), field="csv")
    validate = RowValidator(workspace.pk, header)
    report = ImportReport(dry_run=dry_run)
    good: list[CleanRow] = []
    for line_no, raw in enumerate(reader, start=2):
        report.rows += 1
        result = validate(line_no, raw)
        if isinstance(result, list):
            report.errors.extend(result)
            report.skipped += 1
        else:
            good.append(result)
        if progress and report.rows % 1000 == 0:
            progress(report.rows, 0)
    return good, report


def settle(report: ImportReport, good: list[CleanRow], mode: str) -> bool:
    """Apply the mode to a validated file; True when rows are to be written."""
    if mode not in ("skip", "all_or_nothing"):
        raise InvalidValue(_("Unknown mode."), field="mode")
    if mode == "all_or_nothing" and report.errors:
        report.skipped = report.rows
        return False
    if report.dry_run:  # what would be imported (new or updated)
        report.imported = len(good)
        return False
    return True


def batches(items: Iterable[CleanRow], size: int = BATCH) -> Iterator[list[CleanRow]]:
    return _batches(items, size)


def customers_import(
    *,
    actor: Actor,
    workspace: Workspace,
    text: str,
    mode: str = "skip",
    dry_run: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH,
) -> ImportReport:
    """Import customers from CSV text (UTF-8, header row). Runs inside the caller's transaction."""
    if mode not in ("skip", "all_or_nothing"):
        raise InvalidValue(_("Unknown mode."), field="mode")
    good, report = customers_validate(workspace=workspace, text=text, dry_run=dry_run)
    if not settle(report, good, mode):
        return report
    done = 0
    for batch in _batches(good, batch_size):
        created, updated = write_batch(actor=actor, workspace=workspace, rows=batch)
        report.imported += created
        report.updated += updated
        done += len(batch)
        if progress:
            progress(done, len(good))
    return report


def write_batch(*, actor: Actor, workspace: Workspace, rows: list[CleanRow]) -> tuple[int, int]:
    """Write validated rows: new profiles in bulk, known ones (by email or external id) updated."""
    held = bulk.identities_held(
        workspace.pk,
        [(IdentityKind.EMAIL, e) for r in rows for e in r.emails]
        + [(IdentityKind.PHONE, p) for r in rows for p in r.phones]
        + [(IdentityKind.EXTERNAL, r.external_id) for r in rows if r.external_id],
    )
    new_rows: list[CleanRow] = []
    updates: list[tuple[CleanRow, int]] = []
    for r in rows:
        keys = [(IdentityKind.EMAIL, e) for e in r.emails]
        if r.external_id:
            keys.append((IdentityKind.EXTERNAL, r.external_id))
        owner = next((held[k] for k in keys if k in held), None)
        if owner is None:
            new_rows.append(r)
        else:
            updates.append((r, owner))
    now = timezone.now()
    with transaction.atomic():  # a savepoint per batch
        created = bulk.insert_customers(workspace.pk, new_rows, now)
        contacts: list[tuple[Any, ...]] = []
        identities: list[tuple[Any, ...]] = []
        claimed: set[tuple[str, str]] = set(held)
        for (pk, _public_id), r in zip(created, new_rows, strict=True):
            for kind, values in ((ContactKind.EMAIL, r.emails), (ContactKind.PHONE, r.phones)):
                for v in values:
                    contacts.append((workspace.pk, pk, kind, v, False, now))
                    # A phone already held (a family's shared phone) stays a contact only.
                    if (kind, v) not in claimed:
                        claimed.add((kind, v))
                        identities.append((workspace.pk, pk, kind, v, False, now))
            if r.external_id:
                identities.append((workspace.pk, pk, IdentityKind.EXTERNAL, r.external_id, False, now))
        bulk.insert_rows(Contact, bulk.LINK_COLUMNS, contacts)
        bulk.insert_rows(Identity, bulk.LINK_COLUMNS, identities)
        bulk.analyze_after_growth(len(created))
        emit_many(
            [
                EventSpec(
                    workspace.pk,
                    "customers.customer.created",
                    "customer",
                    public_id,
                    actor,
                    {"customer_id": public_id, "source": "import"},
                    now,
                )
                for _pk, public_id in created
            ]
        )
        for r, owner in updates:
            _update_existing(actor, workspace, owner, r)
    return len(created), len(updates)


def _update_existing(actor: Actor, workspace: Workspace, customer_pk: int, r: CleanRow) -> None:
    from carekit.customers.services import contacts_add

    customer = Customer.objects.get(pk=customer_pk, workspace=workspace)
    if customer.status != CustomerStatus.ACTIVE:
        return
    data = ProfileInput(**r.fields, tags=sorted(set(customer.tags) | set(r.tags)) if r.tags else None)
    data.attributes = r.attributes or None
    customer_update(actor=actor, customer=customer, data=data)
    contacts_add(actor=actor, customer=customer, kind=ContactKind.EMAIL, values=r.emails)
    contacts_add(actor=actor, customer=customer, kind=ContactKind.PHONE, values=r.phones)
