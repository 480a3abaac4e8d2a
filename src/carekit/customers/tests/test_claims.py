"""Pending claims: a visitor's typed email links only after the one-time code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction

from carekit.core import outbound
from carekit.customers import claims, services
from carekit.customers.enums import ClaimStatus, CustomerStatus
from carekit.customers.models import Claim, Customer, Identity
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]


@dataclass
class CapturingSender:
    channel: str = "email"
    sent: list[outbound.OutboundMessage] = field(default_factory=list)

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        self.sent.append(message)
        return outbound.SendResult(ok=True)


@pytest.fixture
def mailbox():
    previous = outbound._SENDERS.get("email")
    sender = CapturingSender()
    outbound.register_sender(sender, replace=True)
    yield sender
    if previous is not None:
        outbound.register_sender(previous, replace=True)


def code_from(message: outbound.OutboundMessage) -> str:
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found
    return found.group(1)


def _start(ws, visitor="v-1", value="anna@example.com"):
    with transaction.atomic():
        return claims.claim_start(
            actor=SYSTEM,
            workspace=ws,
            visitor_kind="visitor",
            visitor_value=visitor,
            kind="email",
            value=value,
        )


def _verify(ws, claim, code):
    with transaction.atomic():
        return claims.claim_verify(actor=SYSTEM, workspace=ws, claim=claim, code=code)


def test_code_joins_the_visitor_to_the_owner_only_after_verification(workspace, mailbox):
    with transaction.atomic():
        owner = services.customer_resolve(
            actor=SYSTEM, workspace=workspace, kind="email", value="anna@example.com"
        ).customer
    started = _start(workspace)
    assert started.visitor.pk != owner.pk
    assert Identity.objects.get(kind="visitor").customer_id == started.visitor.pk
    assert [m.to for m in mailbox.sent] == ["anna@example.com"]
    code = code_from(mailbox.sent[0])
    assert code not in started.claim.code_digest

    wrong = _verify(workspace, started.claim, "000000" if code != "000000" else "111111")
    assert wrong.customer is None
    assert wrong.error == "wrong_code"
    assert Claim.objects.get().attempts == 1
    assert Identity.objects.get(kind="visitor").customer_id == started.visitor.pk

    ok = _verify(workspace, started.claim, code)
    assert ok.customer is not None
    assert ok.customer.pk == owner.pk
    assert Identity.objects.get(kind="visitor").customer_id == owner.pk
    assert Customer.objects.get(pk=started.visitor.pk).status == CustomerStatus.MERGED
    again = _verify(workspace, started.claim, code)
    assert again.error == "used"


def test_claim_fails_for_good_after_five_wrong_codes(workspace, mailbox):
    started = _start(workspace)
    code = code_from(mailbox.sent[0])
    wrong = "123456" if code != "123456" else "654321"
    for _ in range(claims.MAX_ATTEMPTS):
        assert _verify(workspace, started.claim, wrong).error == "wrong_code"
    assert Claim.objects.get().status == ClaimStatus.FAILED
    assert _verify(workspace, started.claim, code).error == "used"
    assert Identity.objects.filter(kind="email").count() == 0


def test_new_contact_is_attached_to_the_visitor_after_verification(workspace, mailbox):
    started = _start(workspace, value="new@example.com")
    ok = _verify(workspace, started.claim, code_from(mailbox.sent[0]))
    assert ok.customer.pk == started.visitor.pk
    ident = Identity.objects.get(kind="email")
    assert (ident.customer_id, ident.value, ident.verified) == (started.visitor.pk, "new@example.com", True)


def test_no_code_is_sent_when_the_transaction_rolls_back(workspace, mailbox):
    def start_then_fail():
        with transaction.atomic():
            claims.claim_start(
                actor=SYSTEM,
                workspace=workspace,
                visitor_kind="visitor",
                visitor_value="v",
                kind="email",
                value="a@example.com",
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        start_then_fail()
    assert mailbox.sent == []
    assert Claim.objects.count() == 0
