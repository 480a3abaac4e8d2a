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


# --- anonymous visitors of the web chat widget (used by carekit.channels.adapters.webchat) -------


def identity_owner(workspace_id: int, kind: str, value: str) -> str | None:
    """The active profile holding this exact identity, or None; never creates one."""
    from carekit.customers.models import Identity

    held = (
        Identity.objects.filter(workspace_id=workspace_id, kind=kind, value=value)
        .values_list("customer__public_id", flat=True)
        .first()
    )
    ref = customer(workspace_id, held) if held else None
    return ref.customer_id if ref is not None and ref.status == CustomerStatus.ACTIVE else None


@dataclass(frozen=True)
class VisitorClaim:
    claim_id: str
    customer_id: str  # the visitor's own (anonymous) profile; nothing of the contact's holder


@dataclass(frozen=True)
class VisitorVerified:
    ok: bool
    customer_id: str = ""  # the profile the visitor belongs to now
    error: str = ""  # not_found | wrong_code | expired | used
    message: str = ""


def visitor_claim_start(
    *, actor: Actor, workspace_id: int, visitor_kind: str, visitor_value: str, kind: str, value: str
) -> VisitorClaim:
    """A contact typed by a visitor opens a pending claim and sends a one-time code to it."""
    from carekit.customers import claims as _claims

    ws = Workspace.objects.get(pk=workspace_id)
    started = _claims.claim_start(
        actor=actor,
        workspace=ws,
        visitor_kind=visitor_kind,
        visitor_value=visitor_value,
        kind=kind,
        value=value,
    )
    return VisitorClaim(started.claim.public_id, started.visitor.public_id)


def visitor_claim_verify(
    *, actor: Actor, workspace_id: int, visitor_kind: str, visitor_value: str, claim_id: str, code: str
) -> VisitorVerified:
    """Check the code of the visitor's own claim (another visitor's claim id is not found)."""
    from carekit.customers import claims as _claims
    from carekit.customers.models import Claim

    ws = Workspace.objects.get(pk=workspace_id)
    claim = Claim.objects.filter(
        workspace=ws,
        public_id=claim_id,
        claimant__identities__kind=visitor_kind,
        claimant__identities__value=visitor_value,
    ).first()
    if claim is None:
        return VisitorVerified(False, error="not_found", message=gettext("This code can no longer be used."))
    result = _claims.claim_verify(actor=actor, workspace=ws, claim=claim, code=code)
    if result.customer is None:
        return VisitorVerified(False, error=result.error, message=result.message)
    return VisitorVerified(True, customer_id=result.customer.public_id)


def visitor_name_set(*, actor: Actor, workspace_id: int, customer_id: str, name: str) -> bool:
    """The name a visitor typed, kept only on a profile that has none (it never renames a customer)."""
    c = _active(workspace_id, customer_id)
    name = " ".join(name.split())[:120]
    if c is None or not name or c.first_name or c.last_name:
        return False
    _services.customer_update(actor=actor, customer=c, data=_services.ProfileInput(first_name=name))
    return True


def has_verified_identity(workspace_id: int, customer_id: str, *, besides: str = "visitor") -> bool:
    """Whether the profile holds a verified identity other than `besides` (e.g. a claimed email)."""
    from carekit.customers.models import Identity

    return (
        Identity.objects.filter(workspace_id=workspace_id, customer__public_id=customer_id, verified=True)
        .exclude(kind=besides)
        .exists()
    )


# --- the first-line bot (issue 8): proof of identity, order lookups, starting a return --------------


def identity_verified(workspace_id: int, customer_id: str) -> bool:
    """Whether the profile holds a verified identity or contact (a one-time code was entered, or a
    trusted integration vouched for it): only then may a bot reveal order details."""
    c = Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()
    if c is None:
        return False
    return c.identities.filter(verified=True).exists() or c.contacts.filter(verified=True).exists()


@dataclass(frozen=True)
class ReturnStarted:
    return_id: str
    order_id: str
    order_number: str
    item_name: str


def return_start(
    *,
    actor: Actor,
    workspace_id: int,
    customer_id: str,
    order_number: str = "",
    item_words: tuple[str, ...] = (),
) -> ReturnStarted | None:
    """Start a return of one unit of the customer's item (a word of `item_words`, by its first five
    letters, in the item's name or category; else the order's first item) from the given order,
    else from their latest shipped or delivered order. None when the
    customer has no such order or item; never touches another customer's orders."""
    from carekit.customers.enums import OrderStatus
    from carekit.customers.models import Order
    from carekit.customers.orders import ReturnItemInput, return_record

    orders = Order.objects.filter(workspace_id=workspace_id, customer__public_id=customer_id)
    if order_number:
        orders = orders.filter(external_id=order_number)
    else:
        orders = orders.filter(
            status__in=[OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED]
        )
    stems = [w.lower()[:5] for w in item_words if len(w) >= 4]

    def fits(name: str) -> bool:
        return any(s in name.lower() for s in stems)

    for order in orders.order_by("-placed_at", "-pk")[:10]:
        items = list(order.items.all().order_by("pk"))
        chosen = next((i for i in items if fits(i.name) or fits(i.category)), None)
        if chosen is None and items and order_number:
            chosen = items[0]
        if chosen is None:
            continue
        ret = return_record(
            actor=actor,
            order=order,
            reason="other",
            items=[ReturnItemInput(chosen.sku, 1, chosen.price)],
        )
        return ReturnStarted(ret.public_id, order.public_id, order.external_id, chosen.name or chosen.sku)
    return None


def recent_return_order(workspace_id: int, customer_id: str, since: datetime) -> str | None:
    """The order id of the customer's latest return since `since` (an exchange offer refers to it)."""
    from carekit.customers.models import Return

    return (
        Return.objects.filter(
            workspace_id=workspace_id, order__customer__public_id=customer_id, created_at__gte=since
        )
        .order_by("-created_at", "-pk")
        .values_list("order__public_id", flat=True)
        .first()
    )


def verification_start(*, actor: Actor, workspace_id: int, customer_id: str, kind: str, value: str) -> str:
    """Send a one-time code to an email or phone the customer typed in a conversation; returns the
    claim id. Nothing of the profile holding that contact is revealed until the code is entered.
    Raises InvalidValue/DomainError (bad contact, no sender, too many codes)."""
    from carekit.customers.claims import claim_start

    c = Customer.objects.get(workspace_id=workspace_id, public_id=customer_id)
    started = claim_start(
        actor=actor,
        workspace=Workspace.objects.get(pk=workspace_id),
        visitor_kind="",
        visitor_value="",
        kind=kind,
        value=value,
        claimant=c,
    )
    return started.claim.public_id


def verification_check(*, actor: Actor, workspace_id: int, claim_id: str, code: str) -> str | None:
    """The customer id the conversation now belongs to (verified), or None for a wrong/expired code."""
    from carekit.customers.claims import claim_verify
    from carekit.customers.models import Claim

    claim = Claim.objects.filter(workspace_id=workspace_id, public_id=claim_id).first()
    if claim is None:
        return None
    done = claim_verify(actor=actor, workspace=Workspace.objects.get(pk=workspace_id), claim=claim, code=code)
    return done.customer.public_id if done.customer is not None else None


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
