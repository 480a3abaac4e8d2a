from __future__ import annotations

import pytest
from django.db import transaction

from carekit.core.models import Event
from carekit.customers import consents, public
from carekit.customers.models import ConsentRecord
from carekit.customers.normalize import InvalidValue
from carekit.customers.tests.factories import make_customer
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _set(customer, purpose, channel, granted, source="portal"):
    with transaction.atomic():
        return consents.consent_set(
            actor=SYSTEM,
            customer=customer,
            purpose=purpose,
            channel=channel,
            granted=granted,
            source=source,
            text_version="v2",
        )


def test_marketing_needs_an_explicit_grant_per_channel(workspace):
    c = make_customer(workspace, first_name="Anna")
    assert consents.consent_allows(c, "marketing", "email") is False
    assert consents.consent_allows(c, "service", "email") is True
    assert consents.consent_allows(c, "reply", "email") is True
    _set(c, "marketing", "any", True)
    assert consents.consent_allows(c, "marketing", "email") is True
    _set(c, "marketing", "email", False)
    assert consents.consent_allows(c, "marketing", "email") is False
    assert consents.consent_allows(c, "marketing", "telegram") is True
    assert public.consent_allows(workspace.pk, c.public_id, "marketing", "telegram") is True


def test_withdrawn_processing_stops_everything_but_replies(workspace):
    c = make_customer(workspace)
    _set(c, "marketing", "any", True)
    _set(c, "processing", "any", False)
    assert [consents.consent_allows(c, k, "email") for k in ("reply", "service", "marketing")] == [
        True,
        False,
        False,
    ]


def test_history_keeps_every_answer_with_source_and_version(workspace):
    c = make_customer(workspace)
    _set(c, "marketing", "email", True, source="checkout")
    _set(c, "marketing", "email", False, source="unsubscribe_link")
    rows = list(
        ConsentRecord.objects.filter(customer=c)
        .order_by("pk")
        .values_list("granted", "source", "text_version")
    )
    assert rows == [(True, "checkout", "v2"), (False, "unsubscribe_link", "v2")]
    assert Event.objects.filter(type="customers.consent.changed", subject_id=c.public_id).count() == 2


def test_unknown_purpose_is_refused_and_writes_nothing(workspace):
    c = make_customer(workspace)
    with pytest.raises(InvalidValue) as exc:
        _set(c, "spam", "email", True)
    assert exc.value.field == "purpose"
    assert ConsentRecord.objects.count() == 0
