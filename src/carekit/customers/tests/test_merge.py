"""Merge then unmerge restores both profiles and every reference (snapshot comparison)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from carekit.core.errors import Conflict, DomainError
from carekit.core.models import Event
from carekit.customers import consents, merge, registry, services
from carekit.customers import orders as order_services
from carekit.customers.enums import CustomerStatus
from carekit.customers.models import Consent, Contact, Customer, Identity, MergeRecord, Order
from carekit.customers.tests.factories import make_customer, make_order
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


class LedgerProbe:
    """Stands in for another context with an append-only points ledger keyed by customer id."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int, str]] = []  # (customer_id, points, idempotency key)

    def balance(self, customer_id: str) -> int:
        return sum(p for c, p, _k in self.entries if c == customer_id)

    def _append(self, customer_id: str, points: int, key: str) -> None:
        if key not in {k for *_x, k in self.entries}:
            self.entries.append((customer_id, points, key))

    def merge(self, ctx: registry.MergeContext) -> None:
        moved = self.balance(ctx.merged_id)
        self._append(ctx.merged_id, -moved, f"{ctx.merge_id}:out")
        self._append(ctx.survivor_id, moved, f"{ctx.merge_id}:in")

    def unmerge(self, ctx: registry.MergeContext) -> None:
        moved = sum(p for c, p, k in self.entries if k == f"{ctx.merge_id}:in")
        self._append(ctx.survivor_id, -moved, f"{ctx.merge_id}:undo-in")
        self._append(ctx.merged_id, moved, f"{ctx.merge_id}:undo-out")


@pytest.fixture
def ledger():
    probe = LedgerProbe()
    registry.register_merge_provider("ledger_probe", merge=probe.merge, unmerge=probe.unmerge)
    yield probe
    registry.unregister("ledger_probe")


def snapshot(ws, ledger: LedgerProbe) -> dict:
    out = {}
    for c in Customer.objects.filter(workspace=ws).order_by("pk"):
        out[c.public_id] = {
            "status": c.status,
            "profile": merge._profile(c),
            "identities": sorted(
                Identity.objects.filter(customer=c).values_list("kind", "value", "verified")
            ),
            "contacts": sorted(Contact.objects.filter(customer=c).values_list("kind", "value")),
            "orders": sorted(Order.objects.filter(customer=c).values_list("external_id", flat=True)),
            "consents": sorted(
                Consent.objects.filter(customer=c).values_list("purpose", "channel", "granted")
            ),
            "balance": ledger.balance(c.public_id),
        }
    return out


def _consent(c, purpose, channel, granted):
    with transaction.atomic():
        consents.consent_set(
            actor=SYSTEM, customer=c, purpose=purpose, channel=channel, granted=granted, source="test"
        )


def test_merge_then_unmerge_restores_both_profiles_and_references(workspace, ledger):
    a = make_customer(
        workspace, first_name="Anna", last_name="Ivanova", emails=["anna@example.com"], tags=["vip"]
    )
    b = make_customer(
        workspace,
        first_name="Анна",
        last_name="Иванова",
        company="Romashka",
        birth_date=date(1990, 5, 1),
        phones=["+79123456789"],
        emails=["anna@example.com"],
        tags=["new"],
    )
    with transaction.atomic():
        services.identity_link(actor=SYSTEM, customer=b, kind="visitor", value="v-b", verified=False)
    make_order(workspace, a, "A-1")
    make_order(workspace, b, "B-1")
    _consent(a, "marketing", "email", True)
    _consent(b, "marketing", "telegram", True)
    ledger.entries += [(a.public_id, 100, "a1"), (b.public_id, 40, "b1")]
    before = snapshot(workspace, ledger)

    with transaction.atomic():
        record = merge.customer_merge(actor=SYSTEM, survivor=a, merged=b)
    merged_state = snapshot(workspace, ledger)
    assert merged_state[a.public_id]["orders"] == ["A-1", "B-1"]
    assert merged_state[a.public_id]["balance"] == 140
    assert merged_state[b.public_id]["balance"] == 0
    assert merged_state[a.public_id]["profile"]["company"] == "Romashka"
    assert merged_state[a.public_id]["profile"]["tags"] == ["new", "vip"]
    assert record.snapshot["conflicts"] == {"first_name": "Анна", "last_name": "Иванова"}
    assert merged_state[b.public_id]["status"] == CustomerStatus.MERGED
    assert merged_state[b.public_id]["identities"] == []
    assert merged_state[b.public_id]["contacts"] == []
    assert ("marketing", "telegram", True) in merged_state[a.public_id]["consents"]

    # After the merge: an order through b's visitor id (moves back), one through a's email (stays).
    for ext, ident in (("P-1", ("visitor", "v-b")), ("P-2", ("email", "anna@example.com"))):
        with transaction.atomic():
            order_services.order_upsert(
                actor=SYSTEM,
                workspace=workspace,
                data=order_services.OrderInput(
                    external_id=ext, status="paid", currency="RUB", total="5", identity=ident
                ),
            )
    assert set(Order.objects.filter(customer=a).values_list("external_id", flat=True)) == {
        "A-1",
        "B-1",
        "P-1",
        "P-2",
    }

    with transaction.atomic():
        restored = merge.customer_unmerge(actor=SYSTEM, record=record)
    assert restored.pk == b.pk
    after = snapshot(workspace, ledger)
    assert after[b.public_id]["orders"] == ["B-1", "P-1"]
    assert after[a.public_id]["orders"] == ["A-1", "P-2"]
    for state in (before, after):
        state[a.public_id]["orders"] = [o for o in state[a.public_id]["orders"] if not o.startswith("P-")]
        state[b.public_id]["orders"] = [o for o in state[b.public_id]["orders"] if not o.startswith("P-")]
        for c in state.values():
            c["profile"].pop("last_seen_at")  # touched by the post-merge orders
    assert after == before
    # The ledger was not rewritten: four compensating entries were appended.
    assert len(ledger.entries) == 6
    assert MergeRecord.objects.get().status == "unmerged"
    types = list(
        Event.objects.filter(type__startswith="customers.customer.")
        .exclude(type__endswith="created")
        .values_list("type", flat=True)
    )
    assert types == ["customers.customer.merged", "customers.customer.unmerged"]


def test_merge_refuses_another_workspace_and_itself(workspace, other_workspace):
    a = make_customer(workspace)
    x = make_customer(other_workspace)
    with pytest.raises(DomainError), transaction.atomic():
        merge.customer_merge(actor=SYSTEM, survivor=a, merged=x)
    with pytest.raises(DomainError), transaction.atomic():
        merge.customer_merge(actor=SYSTEM, survivor=a, merged=a)
    assert MergeRecord.objects.count() == 0
    assert Customer.objects.filter(status=CustomerStatus.ACTIVE).count() == 2


def test_unmerge_twice_is_a_conflict(workspace):
    a, b = make_customer(workspace), make_customer(workspace)
    with transaction.atomic():
        record = merge.customer_merge(actor=SYSTEM, survivor=a, merged=b)
    with transaction.atomic():
        merge.customer_unmerge(actor=SYSTEM, record=record)
    with pytest.raises(Conflict), transaction.atomic():
        merge.customer_unmerge(actor=SYSTEM, record=record)
