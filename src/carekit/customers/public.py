"""What other contexts may use from customers: registries, frozen facts and a few calls; never models.

The shapes are fixed in docs/contracts.md. Functions here run inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.core.outbound import MessageClass, OutboundMessage, send
from carekit.customers import cabinet as _cabinet
from carekit.customers import consents as _consents
from carekit.customers import privacy as _privacy
from carekit.customers import services as _services
from carekit.customers.enums import ConsentPurpose, CustomerStatus, ExportStatus
from carekit.customers.errors import InvalidValue
from carekit.customers.models import Customer, DataExport
from carekit.customers.registry import (
    MergeContext,
    TimelineItem,
    TimelineQuery,
    register_customer_reference,
    register_erasure_provider,
    register_export_provider,
    register_merge_provider,
    register_timeline_provider,
)

__all__ = [
    "CustomerRef",
    "MergeContext",
    "ResolvedRef",
    "TimelineItem",
    "TimelineQuery",
    "consent_allows",
    "contact_address",
    "customer",
    "customer_attribute_set",
    "customer_facts",
    "customer_tag_add",
    "register_customer_reference",
    "register_erasure_provider",
    "register_export_provider",
    "register_merge_provider",
    "register_timeline_provider",
    "resolve",
]


@dataclass(frozen=True)
class CustomerRef:
    customer_id: str
    status: str
    display_name: str
    language: str
    time_zone: str
    preferred_channel: str


@dataclass(frozen=True)
class ResolvedRef:
    customer_id: str
    created: bool


def _ref(c: Customer) -> CustomerRef:
    return CustomerRef(c.public_id, c.status, c.display_name, c.language, c.time_zone, c.preferred_channel)


def customer(workspace_id: int, customer_id: str) -> CustomerRef | None:
    """The profile by id, following merges to the survivor; None if unknown in this workspace."""
    c = Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()
    while c is not None and c.status == CustomerStatus.MERGED and c.merged_into_id:
        c = Customer.objects.filter(pk=c.merged_into_id).first()
    return _ref(c) if c else None


def resolve(
    *, actor: Actor, workspace_id: int, kind: str, value: str, host_token: str | None = None
) -> ResolvedRef:
    """Find or create the customer by one exact channel identity (e.g. a Telegram user id).

    Contact data a visitor types is not an identity: it must go through the claim flow.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("customers.public.resolve runs inside the caller's transaction")
    ws = Workspace.objects.get(pk=workspace_id)
    r = _services.customer_resolve(actor=actor, workspace=ws, kind=kind, value=value, host_token=host_token)
    return ResolvedRef(r.customer.public_id, r.created)


def consent_allows(workspace_id: int, customer_id: str, message_class: str, channel: str) -> bool:
    """Whether a message of this class (reply, service, marketing) may go out through this channel."""
    c = Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()
    while c is not None and c.status == CustomerStatus.MERGED and c.merged_into_id:
        c = Customer.objects.filter(pk=c.merged_into_id).first()
    return c is not None and _consents.consent_allows(c, message_class, channel)


# --- facts and small writes for automation (used by carekit.scenarios) -------------------------


@dataclass(frozen=True)
class CustomerFacts:
    """Non-contact facts that automation conditions read: tags, custom attributes, language, zone."""

    customer_id: str
    tags: tuple[str, ...]
    attributes: dict
    language: str
    time_zone: str
    preferred_channel: str


def _follow(workspace_id: int, customer_id: str) -> Customer | None:
    c = Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()
    while c is not None and c.status == CustomerStatus.MERGED and c.merged_into_id:
        c = Customer.objects.filter(pk=c.merged_into_id).first()
    return c


def customer_facts(workspace_id: int, customer_id: str) -> CustomerFacts | None:
    """Tags, attributes and preferences of the profile (following merges); None if unknown or erased."""
    c = _follow(workspace_id, customer_id)
    if c is None or c.status != CustomerStatus.ACTIVE:
        return None
    return CustomerFacts(
        c.public_id, tuple(c.tags), dict(c.attributes), c.language, c.time_zone, c.preferred_channel
    )


# channel kind -> the contact or identity kind that addresses it
_ADDRESS_KINDS = {
    "email": "email",
    "sms": "phone",
    "whatsapp": "phone",
    "phone": "phone",
    "telegram": "telegram",
}


def contact_address(workspace_id: int, customer_id: str, channel: str) -> str | None:
    """Where to send through `channel` (an email, a phone, a Telegram id), or None if the profile has none.

    Read at send time only; callers must not store it beyond the message they send.
    """
    c = _follow(workspace_id, customer_id)
    kind = _ADDRESS_KINDS.get(channel, channel)
    if c is None or c.status != CustomerStatus.ACTIVE:
        return None
    contact = c.contacts.filter(kind=kind).order_by("-verified", "pk").first()
    if contact is not None:
        return contact.value
    identity = c.identities.filter(kind=kind).order_by("-verified", "pk").first()
    return identity.value if identity is not None else None


def customer_tag_add(*, actor: Actor, workspace_id: int, customer_id: str, tag: str) -> bool:
    """Add one tag (idempotent); False if the profile is unknown or not active."""
    c = _follow(workspace_id, customer_id)
    if c is None or c.status != CustomerStatus.ACTIVE:
        return False
    if tag.strip().lower() in c.tags:
        return True
    _services.customer_update(actor=actor, customer=c, data=_services.ProfileInput(tags=[*c.tags, tag]))
    return True


def customer_attribute_set(
    *, actor: Actor, workspace_id: int, customer_id: str, key: str, value: object
) -> bool:
    """Set one custom attribute (validated against its definition); False if the profile is not active."""
    c = _follow(workspace_id, customer_id)
    if c is None or c.status != CustomerStatus.ACTIVE:
        return False
    _services.customer_update(actor=actor, customer=c, data=_services.ProfileInput(attributes={key: value}))
    return True


# --- the customer's cabinet (used by carekit.portal) ----------------------------------------------


@dataclass(frozen=True)
class OrderView:
    order_id: str
    number: str
    status: str
    status_label: str
    total: str
    currency: str
    carrier: str
    tracking_number: str
    placed_at: datetime | None
    promised_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class ConsentView:
    purpose: str
    purpose_label: str
    channel: str
    granted: bool | None


@dataclass(frozen=True)
class ExportView:
    export_id: str
    status: str
    status_label: str
    created_at: datetime


@dataclass(frozen=True)
class CabinetView:
    customer_id: str
    first_name: str
    last_name: str
    preferred_channel: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    orders: tuple[OrderView, ...]
    consents: tuple[ConsentView, ...]
    exports: tuple[ExportView, ...]


CABINET_CHANNELS = ("email", "sms", "telegram")


def _active(workspace_id: int, customer_id: str) -> Customer | None:
    return Customer.objects.filter(
        workspace_id=workspace_id, public_id=customer_id, status=CustomerStatus.ACTIVE
    ).first()


def _customer_actor(customer_id: str) -> Actor:
    return Actor("customer", customer_id)


def cabinet_view(workspace_id: int, customer_id: str) -> CabinetView | None:
    c = _active(workspace_id, customer_id)
    if c is None:
        return None
    contacts = list(c.contacts.all().order_by("pk"))
    orders = tuple(
        OrderView(
            o.public_id,
            o.external_id,
            o.status,
            str(o.get_status_display()),
            str(o.total),
            o.currency,
            o.carrier,
            o.tracking_number,
            o.placed_at,
            o.promised_at,
            o.shipped_at,
            o.delivered_at,
        )
        for o in c.orders.all().order_by("-placed_at", "-pk")
    )
    consents_ = tuple(
        ConsentView(p.value, str(p.label), ch, _consents.consent_state(c, p.value, ch))
        for p in (ConsentPurpose.MARKETING, ConsentPurpose.SURVEYS)
        for ch in CABINET_CHANNELS
    )
    exports = tuple(
        ExportView(e.public_id, e.status, str(e.get_status_display()), e.created_at)
        for e in c.exports.exclude(status=ExportStatus.DELETED).order_by("-created_at")
    )
    return CabinetView(
        c.public_id,
        c.first_name,
        c.last_name,
        c.preferred_channel,
        tuple(x.value for x in contacts if x.kind == "email"),
        tuple(x.value for x in contacts if x.kind == "phone"),
        orders,
        consents_,
        exports,
    )


def cabinet_sign_in_send(*, workspace_id: int, email: str, link_base: str = "") -> None:
    _cabinet.sign_in_code_send(workspace_id=workspace_id, email=email, link_base=link_base)


def cabinet_sign_in_link(*, workspace_id: int, token: str) -> str | None:
    return _cabinet.sign_in_link_check(workspace_id=workspace_id, token=token)


def cabinet_sign_in_check(*, workspace_id: int, email: str, code: str) -> str | None:
    return _cabinet.sign_in_code_check(workspace_id=workspace_id, email=email, code=code)


def cabinet_consent_set(
    *, workspace_id: int, customer_id: str, purpose: str, channel: str, granted: bool, source: str
) -> bool:
    c = _active(workspace_id, customer_id)
    if c is None:
        return False
    _consents.consent_set(
        actor=_customer_actor(customer_id),
        customer=c,
        purpose=purpose,
        channel=channel,
        granted=granted,
        source=source,
    )
    return True


def cabinet_profile_update(
    *,
    workspace_id: int,
    customer_id: str,
    first_name: str,
    last_name: str,
    phones: list[str],
    preferred_channel: str = "",
) -> None:
    c = _active(workspace_id, customer_id)
    if c is None:
        return
    if preferred_channel and preferred_channel not in CABINET_CHANNELS:
        raise InvalidValue(gettext("Unknown channel."), field="preferred_channel")
    _services.customer_update(
        actor=_customer_actor(customer_id),
        customer=c,
        data=_services.ProfileInput(
            first_name=first_name, last_name=last_name, phones=phones, preferred_channel=preferred_channel
        ),
    )


def unsubscribe_token(workspace_id: int, customer_id: str, channel: str) -> str:
    """The signed token for the unsubscribe link in every marketing message (no sign-in needed)."""
    return _cabinet.unsubscribe_token(workspace_id, customer_id, channel)


def unsubscribe_read(token: str) -> tuple[int, str, str] | None:
    return _cabinet.unsubscribe_read(token)


def cabinet_export_request(*, workspace_id: int, customer_id: str) -> str | None:
    c = _active(workspace_id, customer_id)
    if c is None:
        return None
    return _cabinet.export_request(actor=_customer_actor(customer_id), customer=c).public_id


def cabinet_export_take(*, workspace_id: int, customer_id: str, export_id: str) -> bytes | None:
    """The ready zip's bytes; the file is deleted as it is handed over."""
    export = DataExport.objects.filter(
        workspace_id=workspace_id,
        customer__public_id=customer_id,
        public_id=export_id,
        status=ExportStatus.READY,
    ).first()
    if export is None:
        return None
    data = (_cabinet.export_dir() / export.file_name).read_bytes()
    _cabinet.export_delete(export=export)
    return data


def cabinet_erase(*, workspace_id: int, customer_id: str) -> bool:
    """Erase the customer everywhere and confirm it to them (the address is read before erasure)."""
    c = _active(workspace_id, customer_id)
    if c is None:
        return False
    emails = [x.value for x in c.contacts.filter(kind="email")]
    # The confirmation is registered first so that it goes out before the purge of sent-mail files
    # (embedded mode) that runs after commit: no copy of the address outlives the erasure.
    for email in emails[:1]:
        message = OutboundMessage(
            workspace_id=workspace_id,
            channel="email",
            to=email,
            subject=gettext("Your data was erased"),
            body=gettext("As you asked, we erased your personal data."),
            message_class=MessageClass.SERVICE,
        )
        transaction.on_commit(lambda m=message: send(m))  # type: ignore[misc]
    _privacy.customer_erase(actor=_customer_actor(customer_id), customer=c)
    return True


# --- identities Carekit verified itself (appended for carekit.channels) ----------------------------


def identity_attach_verified(
    *, actor: Actor, workspace_id: int, customer_id: str, kind: str, value: str
) -> bool:
    """Attach a channel identity that Carekit has verified on the customer's behalf, e.g. the Telegram
    user who opened a deep link Carekit signed for this customer. As with a host-site token, a profile
    that already held the identity is merged into this one. False if the profile is not active."""
    from carekit.customers import normalize
    from carekit.customers.merge import customer_merge
    from carekit.customers.models import Identity

    c = _follow(workspace_id, customer_id)
    if c is None or c.status != CustomerStatus.ACTIVE:
        return False
    kind, value = normalize.identity(kind, value, region=_services.region_of(workspace_id))
    held = Identity.objects.select_related("customer").filter(
        workspace_id=workspace_id, kind=kind, value=value
    )
    other = held.exclude(customer=c).first()
    if other is not None and other.customer.status == CustomerStatus.ACTIVE:
        customer_merge(actor=actor, survivor=c, merged=other.customer, reason="verified_identity")
    _services.identity_link(actor=actor, customer=c, kind=kind, value=value, verified=True, strict=False)
    return True
