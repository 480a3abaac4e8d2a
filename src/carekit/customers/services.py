"""Writes to customer profiles and identities (keyword-only, with `actor=`).

They run inside the caller's transaction and emit domain events there. Claims, consents, orders,
merges and imports have their own modules next to this one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core.errors import Conflict
from carekit.core.events import Actor, EventSpec, emit, emit_many
from carekit.core.ids import new_public_id
from carekit.core.models import Workspace
from carekit.core.rows import insert_parts
from carekit.customers import normalize
from carekit.customers.enums import AttributeType, ContactKind, CustomerStatus, IdentityKind
from carekit.customers.errors import NotFound
from carekit.customers.models import AttributeDefinition, Contact, Customer, CustomerSettings, Identity

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address",
    "language",
    "time_zone",
    "birth_date",
    "age_band",
    "preferred_channel",
)


def settings_for(workspace_id: int) -> CustomerSettings:
    """The workspace's customer settings, created on first use."""
    found = CustomerSettings.objects.filter(workspace_id=workspace_id).first()
    if found is not None:
        return found
    with transaction.atomic():
        obj, _created = CustomerSettings.objects.get_or_create(
            workspace_id=workspace_id, defaults={"identity_secret": secrets.token_urlsafe(32)}
        )
    return obj


def region_of(workspace_id: int) -> str:
    return settings_for(workspace_id).default_region


def settings_update(*, actor: Actor, workspace: Workspace, default_region: str) -> CustomerSettings:
    import phonenumbers

    region = default_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise normalize.InvalidValue(_("Unknown region."), field="default_region")
    obj = settings_for(workspace.pk)
    obj.default_region = region
    obj.save(update_fields=["default_region"])
    emit(
        workspace_id=workspace.pk,
        type="customers.settings.changed",
        subject_type="workspace",
        subject_id=workspace.public_id,
        actor=actor,
        payload={"default_region": region},
    )
    return obj


def identity_secret_rotate(*, actor: Actor, workspace: Workspace) -> CustomerSettings:
    """A new secret for host-site tokens; tokens signed with the old one stop working at once."""
    obj = settings_for(workspace.pk)
    obj.identity_secret = secrets.token_urlsafe(32)
    obj.save(update_fields=["identity_secret"])
    emit(
        workspace_id=workspace.pk,
        type="customers.settings.secret_rotated",
        subject_type="workspace",
        subject_id=workspace.public_id,
        actor=actor,
        payload={},
    )
    return obj


# --- attribute definitions ------------------------------------------------------------------------


def attribute_define(
    *, actor: Actor, workspace: Workspace, key: str, type: str, label: str = "", choices: Sequence[str] = ()
) -> AttributeDefinition:
    try:
        type_ = AttributeType(type)
    except ValueError:
        raise normalize.InvalidValue(_("Unknown attribute type."), field="type") from None
    if type_ == AttributeType.CHOICE and not choices:
        raise normalize.InvalidValue(_("A choice attribute needs choices."), field="choices")
    try:
        with transaction.atomic():
            return AttributeDefinition.objects.create(
                workspace=workspace, key=key, label=label, type=type_, choices=list(choices)
            )
    except IntegrityError:
        raise Conflict(_("This attribute exists."), field="key") from None


def attribute_definitions(workspace_id: int) -> dict[str, tuple[str, list[str]]]:
    rows = AttributeDefinition.objects.filter(workspace_id=workspace_id)
    return {d.key: (d.type, list(d.choices)) for d in rows}


# --- profiles -------------------------------------------------------------------------------------


@dataclass
class ProfileInput:
    """Profile data as received (API, import, resolve); validated by `profile_validate`."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address: str | None = None
    language: str | None = None
    time_zone: str | None = None
    birth_date: date | None = None
    age_band: str | None = None
    preferred_channel: str | None = None
    emails: list[str] | None = None
    phones: list[str] | None = None
    tags: list[str] | None = None
    attributes: dict[str, Any] | None = None
    reachability: dict[str, bool] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanProfile:
    fields: dict[str, Any]
    emails: list[str] | None
    phones: list[str] | None
    tags: list[str] | None
    attributes: dict[str, Any] | None
    reachability: dict[str, bool] | None


def profile_validate(
    workspace_id: int,
    data: ProfileInput,
    *,
    region: str | None = None,
    definitions: Mapping[str, tuple[str, list[str]]] | None = None,
) -> CleanProfile:
    """Normalize everything first, so that a bad value fails before anything is written."""
    region = region or region_of(workspace_id)
    emails = (
        None
        if data.emails is None
        else list(dict.fromkeys(normalize.email(e, field=f"emails[{i}]") for i, e in enumerate(data.emails)))
    )
    phones = (
        None
        if data.phones is None
        else list(
            dict.fromkeys(
                normalize.phone(p, region=region, field=f"phones[{i}]") for i, p in enumerate(data.phones)
            )
        )
    )
    attrs = None
    if data.attributes is not None:
        defs = definitions if definitions is not None else attribute_definitions(workspace_id)
        attrs = normalize.attributes(defs, data.attributes)
    if data.time_zone:
        _check_time_zone(data.time_zone)
    fields = {k: getattr(data, k) for k in PROFILE_FIELDS if getattr(data, k) is not None}
    for key in ("first_name", "last_name", "company", "address"):
        if key in fields:
            fields[key] = str(fields[key]).strip()
    return CleanProfile(
        fields=fields,
        emails=emails,
        phones=phones,
        tags=None if data.tags is None else normalize.tags(data.tags),
        attributes=attrs,
        reachability=None
        if data.reachability is None
        else {str(k): bool(v) for k, v in data.reachability.items()},
    )


def _check_time_zone(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise normalize.InvalidValue(_("Unknown time zone."), field="time_zone") from None


def _emit_created(customer: Customer, actor: Actor, *, linked: Identity | None = None) -> None:
    specs = [
        EventSpec(
            customer.workspace_id,
            "customers.customer.created",
            "customer",
            customer.public_id,
            actor,
            {"customer_id": customer.public_id},
        )
    ]
    if linked is not None:
        specs.append(_linked_spec(customer, linked.kind, linked.verified, actor))
    emit_many(specs)


def _linked_spec(customer: Customer, kind: str, verified: bool, actor: Actor) -> EventSpec:
    return EventSpec(
        customer.workspace_id,
        "customers.identity.linked",
        "customer",
        customer.public_id,
        actor,
        {"customer_id": customer.public_id, "kind": kind, "verified": verified},
    )


def _create_with_identity(workspace: Workspace, kind: str, value: str) -> tuple[Customer, Identity | None]:
    """A new profile holding the identity; (None identity) when a concurrent call took it first."""
    if connection.vendor == "postgresql":
        return _create_with_identity_pg(workspace, kind, value)
    try:
        with transaction.atomic():  # a savepoint: the loser of a race leaves no empty profile behind
            customer = Customer.objects.create(workspace=workspace)
            ident = Identity.objects.create(workspace=workspace, customer=customer, kind=kind, value=value)
    except IntegrityError:
        return Customer(workspace=workspace), None
    if kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
        Contact.objects.create(workspace=workspace, customer=customer, kind=kind, value=value)
    return customer, ident


def _create_with_identity_pg(workspace: Workspace, kind: str, value: str) -> tuple[Customer, Identity | None]:
    """The same in one statement (the busiest write of `customer_resolve`): the identity goes in first
    with `ON CONFLICT DO NOTHING` and a customer id from the sequence, and the profile and contact are
    inserted only from its returned row, so the loser of a race leaves nothing behind and no savepoint
    is needed. Foreign keys are checked at commit (Django declares them deferrable)."""
    customer = Customer(workspace=workspace, public_id=new_public_id("cus"))
    ident = Identity(workspace=workspace, customer_id=0, kind=kind, value=value)
    id_cols, id_values, id_params = insert_parts(
        ident, computed={"customer_id": f"nextval(pg_get_serial_sequence('{_CUSTOMER}', 'id'))"}
    )
    c_cols, c_values, c_params = insert_parts(customer)
    parts = [
        f"i AS (INSERT INTO {_IDENTITY} ({id_cols}) VALUES ({id_values}) "  # noqa: S608  (metadata only)
        "ON CONFLICT DO NOTHING RETURNING id, customer_id)",
        f"c AS (INSERT INTO {_CUSTOMER} (id, {c_cols}) SELECT i.customer_id, {c_values} FROM i)",  # noqa: S608
    ]
    params = [*id_params, *c_params]
    if kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
        ct_cols, ct_values, ct_params = insert_parts(
            Contact(workspace=workspace, customer_id=0, kind=kind, value=value),
            computed={"customer_id": "i.customer_id"},
        )
        parts.append(f"ct AS (INSERT INTO {_CONTACT} ({ct_cols}) SELECT {ct_values} FROM i)")  # noqa: S608
        params += ct_params
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT id, customer_id FROM i", params)  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return Customer(workspace=workspace), None
    customer.pk, ident.pk, ident.customer_id = row[1], row[0], row[1]
    for obj in (customer, ident):
        obj._state.adding = False
        obj._state.db = connection.alias
    ident.customer = customer
    return customer, ident


_CUSTOMER, _IDENTITY, _CONTACT = Customer._meta.db_table, Identity._meta.db_table, Contact._meta.db_table


def customer_create(*, actor: Actor, workspace: Workspace, data: ProfileInput) -> Customer:
    """Create a profile; emails and phones become contacts (and identities where still free)."""
    clean = profile_validate(workspace.pk, data)
    customer = Customer(workspace=workspace, **clean.fields)
    customer.tags = clean.tags or []
    customer.attributes = clean.attributes or {}
    customer.reachability = clean.reachability or {}
    customer.save()
    contacts_add(actor=actor, customer=customer, kind=ContactKind.EMAIL, values=clean.emails or [])
    contacts_add(actor=actor, customer=customer, kind=ContactKind.PHONE, values=clean.phones or [])
    _emit_created(customer, actor)
    return customer


def customer_update(*, actor: Actor, customer: Customer, data: ProfileInput) -> Customer:
    """Change profile fields; `emails`/`phones` given replace the profile's contacts of that kind."""
    _require_active(customer)
    clean = profile_validate(customer.workspace_id, data)
    for key, value in clean.fields.items():
        setattr(customer, key, value)
    if clean.tags is not None:
        customer.tags = clean.tags
    if clean.attributes is not None:
        merged = {**customer.attributes, **clean.attributes}
        customer.attributes = {k: v for k, v in merged.items() if v is not None}
    if clean.reachability is not None:
        customer.reachability = {**customer.reachability, **clean.reachability}
    customer.updated_at = timezone.now()
    customer.save()
    for kind, values in ((ContactKind.EMAIL, clean.emails), (ContactKind.PHONE, clean.phones)):
        if values is None:
            continue
        Contact.objects.filter(customer=customer, kind=kind).exclude(value__in=values).delete()
        # A removed address stops resolving to this profile, unless the customer proved it was theirs.
        Identity.objects.filter(customer=customer, kind=kind, verified=False).exclude(
            value__in=values
        ).delete()
        contacts_add(actor=actor, customer=customer, kind=kind, values=values)
    emit(
        workspace_id=customer.workspace_id,
        type="customers.customer.updated",
        subject_type="customer",
        subject_id=customer.public_id,
        actor=actor,
        payload={"customer_id": customer.public_id, "fields": sorted(_changed_keys(data))},
    )
    return customer


def _changed_keys(data: ProfileInput) -> Iterable[str]:
    for key in (*PROFILE_FIELDS, "emails", "phones", "tags", "attributes", "reachability"):
        if getattr(data, key) is not None:
            yield key


def _require_active(customer: Customer) -> None:
    if customer.status != CustomerStatus.ACTIVE:
        raise Conflict(_("This profile was merged or erased."), field="customer_id")


def contacts_add(*, actor: Actor, customer: Customer, kind: str, values: Sequence[str]) -> None:
    """Contacts of a profile; each also becomes an identity unless another profile holds it already."""
    have = set(Contact.objects.filter(customer=customer, kind=kind).values_list("value", flat=True))
    new = [v for v in values if v not in have]
    Contact.objects.bulk_create(
        [Contact(workspace_id=customer.workspace_id, customer=customer, kind=kind, value=v) for v in new]
    )
    for value in new:
        identity_link(actor=actor, customer=customer, kind=kind, value=value, verified=False, strict=False)


# Widgets resolve the visitor on every page view; last-seen at this precision keeps most lookups
# read-only (a write per lookup would make each one a commit).
LAST_SEEN_PRECISION = timedelta(minutes=15)


def customer_touch(*, customer: Customer) -> None:
    """Stamp last-seen, at most once per LAST_SEEN_PRECISION per customer."""
    now = timezone.now()
    if now - customer.last_seen_at > LAST_SEEN_PRECISION:
        Customer.objects.filter(pk=customer.pk).update(last_seen_at=now)
        customer.last_seen_at = now


# --- identities -----------------------------------------------------------------------------------


def identity_link(
    *, actor: Actor, customer: Customer, kind: str, value: str, verified: bool, strict: bool = True
) -> Identity | None:
    """Attach an identity (already normalized). Held by another profile: Conflict, or None if not strict."""
    existing = Identity.objects.filter(workspace_id=customer.workspace_id, kind=kind, value=value).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            if verified and not existing.verified:
                Identity.objects.filter(pk=existing.pk).update(verified=True)
            return existing
        if strict:
            raise Conflict(_("This identity belongs to another customer."), field="value")
        return None
    try:
        with transaction.atomic():
            ident = Identity.objects.create(
                workspace_id=customer.workspace_id,
                customer=customer,
                kind=kind,
                value=value,
                verified=verified,
            )
    except IntegrityError:  # a concurrent link won the race
        if strict:
            raise Conflict(_("This identity belongs to another customer."), field="value") from None
        return None
    if kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
        Contact.objects.bulk_create(
            [Contact(workspace_id=customer.workspace_id, customer=customer, kind=kind, value=value)],
            ignore_conflicts=True,
        )
    emit_many([_linked_spec(customer, kind, verified, actor)])
    return ident


@dataclass(frozen=True)
class Resolved:
    customer: Customer
    created: bool
    linked: tuple[str, ...]  # identity kinds newly attached by this call
    conflicts: tuple[str, ...]  # kinds held by another profile (left there; a duplicate candidate)


def customer_resolve(
    *,
    actor: Actor,
    workspace: Workspace,
    kind: str,
    value: str,
    also: Sequence[tuple[str, str]] = (),
    host_token: str | None = None,
    create: bool = True,
) -> Resolved:
    """Find or create the customer by exact identity.

    `also` lists further identities the caller vouches for (a trusted integration: the shop's backend
    with an API token); they are attached to the same profile where free. A visitor id with a valid
    `host_token` (signed by the host site with the workspace's identity secret) joins the profile of
    the identity the token asserts. Untrusted contact data typed by a visitor never goes here: it
    goes to `claims.claim_start`.
    """
    from carekit.customers.claims import host_token_verify

    kinds = {kind, *(k for k, _v in also)}
    # The region only matters for phones; other lookups skip the settings query.
    region = region_of(workspace.pk) if IdentityKind.PHONE in kinds or host_token else "ZZ"
    wanted = [normalize.identity(kind, value, region=region)]
    wanted += [
        normalize.identity(k, v, region=region, field=f"also[{i}].value") for i, (k, v) in enumerate(also)
    ]
    if host_token:
        asserted = host_token_verify(workspace.pk, host_token)
        wanted.append(normalize.identity(asserted[0], asserted[1], region=region, field="host_token"))
    # One exact (kind, value) probe of the unique index per identity: the plan stays an index lookup
    # even while statistics lag behind a bulk import (IN lists made the planner scan the workspace).
    exact = Q()
    for k, v in set(wanted):
        exact |= Q(kind=k, value=v)
    found = {
        (i.kind, i.value): i
        for i in Identity.objects.select_related("customer").filter(exact, workspace=workspace)
    }
    # The asserted (token) identity wins, then the primary, then the others: the first one held.
    order = ([wanted[-1]] if host_token else []) + wanted
    owner = next((found[w].customer for w in order if w in found), None)
    created = False
    linked: list[str] = []
    if owner is None:
        if not create:
            raise NotFound(_("No customer has this identity."), field="value")
        owner, primary = _create_with_identity(workspace, *wanted[0])
        if primary is None:  # a concurrent call created it first: use that profile
            found[wanted[0]] = Identity.objects.select_related("customer").get(
                workspace=workspace, kind=wanted[0][0], value=wanted[0][1]
            )
            owner = found[wanted[0]].customer
        else:
            created = True
            found[wanted[0]] = primary
            linked.append(primary.kind)
            _emit_created(owner, actor, linked=primary)
    conflicts: list[str] = []
    for w in dict.fromkeys(wanted):
        held = found.get(w)
        if held is None:
            if identity_link(
                actor=actor, customer=owner, kind=w[0], value=w[1], verified=False, strict=False
            ):
                linked.append(w[0])
            else:
                conflicts.append(w[0])
        elif held.customer_id != owner.pk:
            if host_token and w == wanted[0] and held.customer.status == CustomerStatus.ACTIVE:
                # The host site vouches that this visitor is the asserted customer: join the profiles.
                from carekit.customers.merge import customer_merge

                customer_merge(actor=actor, survivor=owner, merged=held.customer, reason="host_token")
                linked.append(w[0])
                continue
            conflicts.append(w[0])
            _note_duplicate(owner, held.customer, reason=f"identity:{w[0]}")
    if host_token:
        # The host site signed this identity with the workspace's secret: it is proven (the bot may
        # then show this customer's orders).
        Identity.objects.filter(
            workspace=workspace, customer=owner, kind=wanted[-1][0], value=wanted[-1][1]
        ).update(verified=True)
    customer_touch(customer=owner)
    return Resolved(owner, created, tuple(linked), tuple(conflicts))


def _note_duplicate(a: Customer, b: Customer, *, reason: str) -> None:
    from carekit.customers.duplicates import candidate_note

    candidate_note(a, b, score=0.95, reasons=[reason])
