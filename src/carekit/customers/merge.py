"""Merge two profiles and undo it from the audit record.

Merge moves identities, contacts, orders and every other context's references (through the merge
registry) to the survivor; conflicting profile values stay on the audit record as history. Unmerge
moves back what moved and restores what the merge changed, unless it was edited since. Rows that
arrived after the merge stay with the survivor, unless they came through an identity that moves back.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor, emit
from carekit.customers.enums import CustomerStatus, DuplicateStatus, MergeStatus
from carekit.customers.errors import NotFound
from carekit.customers.models import (
    Claim,
    Consent,
    ConsentRecord,
    Contact,
    Customer,
    DuplicateCandidate,
    Identity,
    MergeRecord,
    Order,
)
from carekit.customers.registry import MERGE_PROVIDERS, REFERENCES, MergeContext

OWN_PROVIDER = "customers"
_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address",
    "language",
    "time_zone",
    "age_band",
    "preferred_channel",
)


def _profile(c: Customer) -> dict[str, Any]:
    return {
        **{f: getattr(c, f) for f in _TEXT_FIELDS},
        "birth_date": c.birth_date.isoformat() if c.birth_date else None,
        "tags": list(c.tags),
        "attributes": dict(c.attributes),
        "reachability": dict(c.reachability),
        "first_seen_at": c.first_seen_at.isoformat(),
        "last_seen_at": c.last_seen_at.isoformat(),
    }


def _external_refs(workspace_id: int, customer_id: str) -> dict[str, list[Any]]:
    """Primary keys of other contexts' rows that reference the customer, per provider."""
    out: dict[str, list[Any]] = {}
    for ref in REFERENCES.values():
        if ref.provider == OWN_PROVIDER:
            continue
        pks = list(ref.model._default_manager.filter(**{ref.field: customer_id}).values_list("pk", flat=True))
        out.setdefault(ref.provider, []).extend(pks)
    return out


def _lock(*customers: Customer) -> None:
    # A fixed order (by pk) so that two concurrent merges of the same pair cannot deadlock.
    pks = sorted(c.pk for c in customers)
    list(Customer.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    for c in customers:
        c.refresh_from_db()


def customer_merge(*, actor: Actor, survivor: Customer, merged: Customer, reason: str = "") -> MergeRecord:
    """Merge `merged` into `survivor`; returns the audit record that `customer_unmerge` reverses."""
    if survivor.workspace_id != merged.workspace_id:
        raise NotFound(_("No such customer."), field="merged_id")
    if survivor.pk == merged.pk:
        raise DomainError(_("A profile cannot be merged into itself."), field="merged_id")
    _lock(survivor, merged)
    if survivor.status != CustomerStatus.ACTIVE or merged.status != CustomerStatus.ACTIVE:
        raise Conflict(_("Only active profiles can be merged."), field="merged_id")
    now = timezone.now()
    record = MergeRecord.objects.create(
        workspace_id=survivor.workspace_id,
        survivor=survivor,
        merged=merged,
        actor=str(actor)[:80],
        snapshot={"survivor": _profile(survivor), "merged": _profile(merged), "reason": reason},
        created_at=now,
    )
    moved: dict[str, Any] = {}
    moved["identities"] = list(Identity.objects.filter(customer=merged).values_list("pk", flat=True))
    Identity.objects.filter(pk__in=moved["identities"]).update(customer=survivor)
    # Contacts are not unique: move the ones the survivor lacks, remember all to recreate them.
    merged_contacts = list(Contact.objects.filter(customer=merged).values("kind", "value", "verified"))
    record.snapshot["merged_contacts"] = merged_contacts
    have = set(Contact.objects.filter(customer=survivor).values_list("kind", "value"))
    Contact.objects.filter(customer=merged).delete()
    added = Contact.objects.bulk_create(
        [
            Contact(workspace_id=survivor.workspace_id, customer=survivor, **c)
            for c in merged_contacts
            if (c["kind"], c["value"]) not in have
        ]
    )
    moved["contacts_added"] = [c.pk for c in added]
    moved["orders"] = list(Order.objects.filter(customer=merged).values_list("pk", flat=True))
    Order.objects.filter(pk__in=moved["orders"]).update(customer=survivor)
    moved["claims"] = list(Claim.objects.filter(claimant=merged).values_list("pk", flat=True))
    Claim.objects.filter(pk__in=moved["claims"]).update(claimant=survivor)
    moved["consents"] = _merge_consents(survivor, merged, record, now)
    record.snapshot["conflicts"] = _merge_profile(survivor, merged)
    survivor.updated_at = now
    survivor.save()
    merged.status = CustomerStatus.MERGED
    merged.merged_into = survivor
    merged.updated_at = now
    merged.save(update_fields=["status", "merged_into", "updated_at"])
    moved["refs"] = _external_refs(survivor.workspace_id, merged.public_id)
    ctx = MergeContext(survivor.workspace_id, survivor.public_id, merged.public_id, record.public_id)
    for name in sorted(MERGE_PROVIDERS):
        MERGE_PROVIDERS[name].merge(ctx)
    record.moved = moved
    record.save(update_fields=["moved", "snapshot"])
    a, b = sorted((survivor.pk, merged.pk))
    DuplicateCandidate.objects.filter(first_id=a, second_id=b).update(status=DuplicateStatus.MERGED)
    emit(
        workspace_id=survivor.workspace_id,
        type="customers.customer.merged",
        subject_type="customer",
        subject_id=survivor.public_id,
        actor=actor,
        payload={
            "survivor_id": survivor.public_id,
            "merged_id": merged.public_id,
            "merge_id": record.public_id,
        },
    )
    return record


def _merge_profile(survivor: Customer, merged: Customer) -> dict[str, Any]:
    """Fill the survivor's blanks from the merged profile; keep differing values as history."""
    conflicts: dict[str, Any] = {}
    for f in (*_TEXT_FIELDS, "birth_date"):
        mine, theirs = getattr(survivor, f), getattr(merged, f)
        if not theirs:
            continue
        if not mine:
            setattr(survivor, f, theirs)
        elif mine != theirs:
            conflicts[f] = theirs.isoformat() if f == "birth_date" else theirs
    survivor.tags = sorted(set(survivor.tags) | set(merged.tags))
    for key, value in merged.attributes.items():
        if key not in survivor.attributes:
            survivor.attributes[key] = value
        elif survivor.attributes[key] != value:
            conflicts[f"attributes.{key}"] = value
    for key, value in merged.reachability.items():
        survivor.reachability.setdefault(key, value)
    survivor.first_seen_at = min(survivor.first_seen_at, merged.first_seen_at)
    survivor.last_seen_at = max(survivor.last_seen_at, merged.last_seen_at)
    return conflicts


def _merge_consents(survivor: Customer, merged: Customer, record: MergeRecord, now) -> dict[str, Any]:
    """The more recent answer wins per (purpose, channel); the change is appended to the history."""
    mine = {(c.purpose, c.channel): c for c in Consent.objects.filter(customer=survivor)}
    added, overwritten = [], {}
    for c in Consent.objects.filter(customer=merged):
        key = (c.purpose, c.channel)
        current = mine.get(key)
        if current is not None and (current.updated_at >= c.updated_at or current.granted == c.granted):
            continue
        if current is None:
            row = Consent.objects.create(
                workspace_id=survivor.workspace_id,
                customer=survivor,
                purpose=c.purpose,
                channel=c.channel,
                granted=c.granted,
                updated_at=now,
            )
            added.append(row.pk)
        else:
            overwritten[str(current.pk)] = current.granted
            Consent.objects.filter(pk=current.pk).update(granted=c.granted, updated_at=now)
        ConsentRecord.objects.create(
            workspace_id=survivor.workspace_id,
            customer=survivor,
            purpose=c.purpose,
            channel=c.channel,
            granted=c.granted,
            source=f"merge:{record.public_id}",
            occurred_at=now,
        )
    return {"added": added, "overwritten": overwritten, "at": now.isoformat()}


def customer_unmerge(*, actor: Actor, record: MergeRecord) -> Customer:
    """Restore the merged profile from the audit record; returns it."""
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    if record.status != MergeStatus.MERGED:
        raise Conflict(_("This merge was already undone."), field="merge_id")
    survivor, merged = record.survivor, record.merged
    _lock(survivor, merged)
    if survivor.status != CustomerStatus.ACTIVE or merged.status != CustomerStatus.MERGED:
        raise Conflict(_("The survivor was merged or erased since; undo that first."), field="merge_id")
    moved, snap = record.moved, record.snapshot
    back_ids = list(
        Identity.objects.filter(pk__in=moved["identities"], customer=survivor).values_list("pk", flat=True)
    )
    Identity.objects.filter(pk__in=back_ids).update(customer=merged)
    Contact.objects.filter(pk__in=moved["contacts_added"], customer=survivor).delete()
    Contact.objects.bulk_create(
        [Contact(workspace_id=merged.workspace_id, customer=merged, **c) for c in snap["merged_contacts"]],
        ignore_conflicts=True,
    )
    Order.objects.filter(pk__in=moved["orders"], customer=survivor).update(customer=merged)
    # The post-merge rule: later orders that came through an identity moving back go back too.
    Order.objects.filter(
        customer=survivor, via_identity_id__in=back_ids, created_at__gte=record.created_at
    ).update(customer=merged)
    Claim.objects.filter(pk__in=moved["claims"], claimant=survivor).update(claimant=merged)
    _unmerge_consents(survivor, record)
    _unmerge_profile(survivor, snap)
    survivor.updated_at = timezone.now()
    survivor.save()
    merged.status = CustomerStatus.ACTIVE
    merged.merged_into = None
    merged.updated_at = timezone.now()
    merged.save(update_fields=["status", "merged_into", "updated_at"])
    identity_refs = tuple(
        f"{k}:{v}" for k, v in Identity.objects.filter(pk__in=back_ids).values_list("kind", "value")
    )
    for name in sorted(MERGE_PROVIDERS):
        ctx = MergeContext(
            record.workspace_id,
            survivor.public_id,
            merged.public_id,
            record.public_id,
            row_ids={name: tuple(moved.get("refs", {}).get(name, ()))},
            identity_ids=identity_refs,
        )
        MERGE_PROVIDERS[name].unmerge(ctx)
    record.status = MergeStatus.UNMERGED
    record.unmerged_at = timezone.now()
    record.save(update_fields=["status", "unmerged_at"])
    emit(
        workspace_id=record.workspace_id,
        type="customers.customer.unmerged",
        subject_type="customer",
        subject_id=survivor.public_id,
        actor=actor,
        payload={
            "survivor_id": survivor.public_id,
            "restored_id": merged.public_id,
            "merge_id": record.public_id,
        },
    )
    return merged


def _unmerge_profile(survivor: Customer, snap: dict[str, Any]) -> None:
    """Undo what the merge filled in, where it still holds the merged value (no edit since)."""
    before, theirs = snap["survivor"], snap["merged"]
    for f in (*_TEXT_FIELDS, "birth_date"):
        current = getattr(survivor, f)
        current = current.isoformat() if f == "birth_date" and current else current
        if not before[f] and theirs[f] and current == theirs[f]:
            setattr(survivor, f, None if f == "birth_date" else "")
    added_tags = set(theirs["tags"]) - set(before["tags"])
    survivor.tags = sorted(set(survivor.tags) - added_tags)
    for key, value in theirs["attributes"].items():
        if key not in before["attributes"] and survivor.attributes.get(key) == value:
            survivor.attributes.pop(key)
    for key, value in theirs["reachability"].items():
        if key not in before["reachability"] and survivor.reachability.get(key) == value:
            survivor.reachability.pop(key)
    from datetime import datetime

    survivor.first_seen_at = datetime.fromisoformat(before["first_seen_at"])
    survivor.last_seen_at = max(datetime.fromisoformat(before["last_seen_at"]), survivor.last_seen_at)
    if survivor.last_seen_at == datetime.fromisoformat(theirs["last_seen_at"]):
        survivor.last_seen_at = datetime.fromisoformat(before["last_seen_at"])


def _unmerge_consents(survivor: Customer, record: MergeRecord) -> None:
    info = record.moved["consents"]
    from datetime import datetime

    at = datetime.fromisoformat(info["at"])
    now = timezone.now()
    restored: list[tuple[str, str, bool]] = []
    # Answers the survivor never gave go away again (back to "never asked", which no record expresses).
    Consent.objects.filter(pk__in=info["added"], customer=survivor, updated_at=at).delete()
    for pk, granted in info["overwritten"].items():
        row = Consent.objects.filter(pk=int(pk), customer=survivor, updated_at=at).first()
        if row is not None:
            Consent.objects.filter(pk=row.pk).update(granted=granted, updated_at=now)
            restored.append((row.purpose, row.channel, granted))
    # The history is append-only: the undo is a compensating record, not a deletion.
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                workspace_id=survivor.workspace_id,
                customer=survivor,
                purpose=p,
                channel=ch,
                granted=g,
                source=f"unmerge:{record.public_id}",
                occurred_at=now,
            )
            for p, ch, g in restored
        ]
    )
