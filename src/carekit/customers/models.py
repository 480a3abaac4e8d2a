"""Customer profiles, their contacts and channel identities, claims, consents, orders and merges.

Personal data lives only in these tables (never in events), so that erasure can reach all of it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace
from carekit.customers.enums import (
    AttributeType,
    ClaimStatus,
    ConsentPurpose,
    ContactKind,
    CustomerStatus,
    DuplicateStatus,
    ExportStatus,
    IdentityKind,
    ImportStatus,
    MergeStatus,
    OrderStatus,
    ReturnReason,
)


class CustomerSettings(models.Model):
    """Per-workspace customer settings: the phone region and the secret host sites sign tokens with."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="customer_settings")
    default_region = models.CharField(max_length=2, default="RU")
    identity_secret = models.CharField(max_length=64)


class Customer(models.Model):
    public_id = PublicIdField(prefix="cus")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    first_name = models.CharField(max_length=120, blank=True, default="")
    last_name = models.CharField(max_length=120, blank=True, default="")
    company = models.CharField(max_length=200, blank=True, default="")
    address = models.CharField(max_length=300, blank=True, default="")
    language = models.CharField(max_length=8, blank=True, default="")
    time_zone = models.CharField(max_length=64, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    age_band = models.CharField(max_length=10, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    preferred_channel = models.CharField(max_length=20, blank=True, default="")
    # channel -> bool: whether messages through that channel reach the customer (bounces, blocks)
    reachability = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status"], name="customer_ws_status"),
            models.Index(fields=["workspace", "last_name", "first_name"], name="customer_ws_name"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class Contact(models.Model):
    """An email or phone on a profile. Not unique: a family may share a phone.

    Foreign keys here and on Customer/Identity carry no index of their own where a composite index
    leads with the same column: fewer indexes to maintain on imports of millions of rows.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    value = models.CharField(max_length=254)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="contact_once_per_customer")
        ]
        indexes = [models.Index(fields=["workspace", "kind", "value"], name="contact_ws_value")]


class Identity(models.Model):
    """A channel identity: exactly one customer per (workspace, kind, value)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="identities", db_index=False
    )
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=254)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "value"], name="identity_unique_per_workspace"
            )
        ]
        indexes = [models.Index(fields=["customer", "created_at"], name="identity_customer_time")]


class AttributeDefinition(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=120, blank=True, default="")
    type = models.CharField(max_length=10, choices=AttributeType.choices)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="attribute_key_unique")]


class Claim(models.Model):
    """An unverified email/phone typed by an anonymous visitor; links only after the code is entered."""

    public_id = PublicIdField(prefix="clm")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    claimant = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="claims")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=254)
    code_digest = models.CharField(max_length=100)  # "<salt>$<hmac>"
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)


class Consent(models.Model):
    """The current state per (customer, purpose, channel); `ConsentRecord` holds the history."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=12, choices=ConsentPurpose.choices)
    channel = models.CharField(max_length=20)
    granted = models.BooleanField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose", "channel"], name="consent_once")
        ]


class ConsentRecord(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_records")
    purpose = models.CharField(max_length=12, choices=ConsentPurpose.choices)
    channel = models.CharField(max_length=20)
    granted = models.BooleanField()
    source = models.CharField(max_length=40)
    text_version = models.CharField(max_length=40, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)


class Order(models.Model):
    public_id = PublicIdField(prefix="ord")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    # The identity the order arrived through: on unmerge, post-merge orders follow it back.
    via_identity = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_id = models.CharField(max_length=120)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    placed_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=60, blank=True, default="")
    tracking_number = models.CharField(max_length=80, blank=True, default="")
    promised_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="order_external_once")
        ]
        indexes = [models.Index(fields=["customer", "placed_at"], name="order_customer_time")]


class OrderItem(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=80)
    name = models.CharField(max_length=200, blank=True, default="")
    category = models.CharField(max_length=80, blank=True, default="")
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=14, decimal_places=2)


class Return(models.Model):
    public_id = PublicIdField(prefix="ret")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    external_id = models.CharField(max_length=120, blank=True, default="")
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    items = models.JSONField(default=list)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)


class MergeRecord(models.Model):
    """The audit record of one merge: enough to restore both profiles on unmerge."""

    public_id = PublicIdField(prefix="mrg")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=MergeStatus.choices, default=MergeStatus.MERGED)
    # {"survivor": {...profile...}, "merged": {...}, "conflicts": {field: merged value}}
    snapshot = models.JSONField(default=dict)
    # {"identities": [pk...], "contacts": [...], "orders": [...], "refs": {provider: [pk...]}}
    moved = models.JSONField(default=dict)
    actor = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    unmerged_at = models.DateTimeField(null=True, blank=True)


class DuplicateCandidate(models.Model):
    """A pair the duplicate finder scored; agents review it (merge or dismiss). `first.pk < second.pk`."""

    public_id = PublicIdField(prefix="dup")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_once")]
        indexes = [models.Index(fields=["workspace", "status", "score"], name="duplicate_ws_queue")]


class PortalLogin(models.Model):
    """A one-time sign-in code for the customer's cabinet. The address is kept as a keyed digest only."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    address_digest = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64)
    link_digest = models.CharField(max_length=64, blank=True, default="")  # the magic link's secret
    attempts = models.PositiveIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)


class DataExport(models.Model):
    """A customer's data export (zip of JSON + CSV): deleted after download or after 7 days."""

    public_id = PublicIdField(prefix="exp")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    file_name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()


class ImportJob(models.Model):
    """A CSV import run in the background so the web UI can show its progress.

    The uploaded file waits under var/imports (job arguments carry ids only) and is deleted when the
    job ends; the report keeps line numbers, fields and reasons, never the rows' values.
    """

    public_id = PublicIdField(prefix="imp")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    what = models.CharField(max_length=10, default="customers")
    mode = models.CharField(max_length=16, default="skip")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)
    file_name = models.CharField(max_length=200, blank=True, default="")
    actor = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
