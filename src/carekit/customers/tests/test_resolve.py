"""Identity resolution: exact identities, trusted extra identities, host-site tokens."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.core.models import Event
from carekit.customers import claims, services
from carekit.customers.models import Contact, Customer, DuplicateCandidate, Identity
from carekit.customers.timeline import timeline
from carekit.testing.tenants import SYSTEM
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _resolve(ws, kind, value, **kw):
    with transaction.atomic():
        return services.customer_resolve(actor=SYSTEM, workspace=ws, kind=kind, value=value, **kw)


def test_email_then_phone_then_signed_visitor_resolve_to_one_customer(workspace):
    first = _resolve(workspace, "email", " Anna@Example.COM ")
    second = _resolve(workspace, "phone", "8 (912) 345-67-89", also=[("email", "anna@example.com")])
    secret = services.settings_for(workspace.pk).identity_secret
    token = claims.host_token_sign(secret, kind="email", value="anna@example.com")
    third = _resolve(workspace, "visitor", "v-123", host_token=token)

    assert first.created
    assert not second.created
    assert not third.created
    assert first.customer.pk == second.customer.pk == third.customer.pk
    assert Customer.objects.filter(workspace=workspace).count() == 1
    assert sorted(Identity.objects.filter(customer=first.customer).values_list("kind", "value")) == [
        ("email", "anna@example.com"),
        ("phone", "+79123456789"),
        ("visitor", "v-123"),
    ]
    page = timeline(workspace.pk, first.customer.public_id)
    linked = sorted(i.data["kind"] for i in page.items if i.kind == "customers.identity")
    assert linked == ["email", "phone", "visitor"]
    assert Event.objects.filter(workspace=workspace, type="customers.customer.created").count() == 1
    assert Event.objects.filter(workspace=workspace, type="customers.identity.linked").count() == 3


def test_forged_or_expired_host_token_links_nothing(workspace):
    owner = _resolve(workspace, "email", "anna@example.com").customer
    forged = claims.host_token_sign("not-the-secret", kind="email", value="anna@example.com")
    with pytest.raises(claims.InvalidToken):
        _resolve(workspace, "visitor", "v-1", host_token=forged)
    secret = services.settings_for(workspace.pk).identity_secret
    expired = claims.host_token_sign(secret, kind="email", value="anna@example.com", ttl_seconds=-5)
    with pytest.raises(claims.InvalidToken):
        _resolve(workspace, "visitor", "v-1", host_token=expired)
    assert list(Identity.objects.filter(workspace=workspace).values_list("customer_id", "kind")) == [
        (owner.pk, "email")
    ]
    assert Customer.objects.filter(workspace=workspace).count() == 1


def test_identity_held_by_another_profile_is_not_stolen(workspace):
    a = _resolve(workspace, "email", "a@example.com").customer
    b = _resolve(workspace, "phone", "+79123456789").customer
    r = _resolve(workspace, "email", "a@example.com", also=[("phone", "+79123456789")])
    assert r.customer.pk == a.pk
    assert r.conflicts == ("phone",)
    assert Identity.objects.get(kind="phone").customer_id == b.pk
    assert DuplicateCandidate.objects.filter(workspace=workspace).count() == 1


def test_identities_are_per_workspace(workspace, other_workspace):
    a = _resolve(workspace, "email", "a@example.com").customer
    b = _resolve(other_workspace, "email", "a@example.com").customer
    assert a.pk != b.pk


def test_bad_identity_value_names_the_field_and_writes_nothing(workspace):
    with pytest.raises(services.normalize.InvalidValue) as exc:
        _resolve(workspace, "phone", "12")
    assert exc.value.field == "value"
    with pytest.raises(services.normalize.InvalidValue) as exc:
        _resolve(workspace, "email", "a@example.com", also=[("email", "not-an-email")])
    assert exc.value.field == "also[0].value"
    assert Customer.objects.filter(workspace=workspace).count() == 0
    assert Contact.objects.count() == 0


def test_resolve_runs_inside_the_callers_transaction(workspace):
    r = call_inside_transaction(
        services.customer_resolve, actor=SYSTEM, workspace=workspace, kind="telegram", value="42"
    )
    assert r.created


def test_signed_token_joins_a_visitor_who_was_anonymous_before(workspace):
    owner = _resolve(workspace, "email", "anna@example.com").customer
    anonymous = _resolve(workspace, "visitor", "v-9").customer
    assert anonymous.pk != owner.pk
    secret = services.settings_for(workspace.pk).identity_secret
    token = claims.host_token_sign(secret, kind="email", value="anna@example.com")
    again = _resolve(workspace, "visitor", "v-9", host_token=token)
    assert again.customer.pk == owner.pk
    assert Identity.objects.get(kind="visitor").customer_id == owner.pk
    anonymous.refresh_from_db()
    assert (anonymous.status, anonymous.merged_into_id) == ("merged", owner.pk)
