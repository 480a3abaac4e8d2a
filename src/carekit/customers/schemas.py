"""Request and response shapes of the customers API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from carekit.core.api import StrictSchema
from carekit.customers.enums import (
    AttributeType,
    ConsentPurpose,
    IdentityKind,
    OrderStatus,
    ReturnReason,
)


class ProfileIn(StrictSchema):
    first_name: str | None = Field(None, max_length=120)
    last_name: str | None = Field(None, max_length=120)
    company: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    language: str | None = Field(None, max_length=8)
    time_zone: str | None = Field(None, max_length=64)
    birth_date: date | None = None
    age_band: str | None = Field(None, max_length=10)
    preferred_channel: str | None = Field(None, max_length=20)
    emails: list[str] | None = Field(None, max_length=20)
    phones: list[str] | None = Field(None, max_length=20)
    tags: list[str] | None = Field(None, max_length=50)
    attributes: dict[str, Any] | None = None
    reachability: dict[str, bool] | None = None


class ContactOut(Schema):
    kind: str
    value: str
    verified: bool


class IdentityOut(Schema):
    kind: str
    value: str
    verified: bool
    created_at: datetime


class CustomerOut(Schema):
    id: str
    status: str
    first_name: str
    last_name: str
    company: str
    address: str
    language: str
    time_zone: str
    birth_date: date | None
    age_band: str
    preferred_channel: str
    tags: list[str]
    attributes: dict[str, Any]
    reachability: dict[str, bool]
    emails: list[str]
    phones: list[str]
    first_seen_at: datetime
    last_seen_at: datetime
    merged_into: str | None


class CustomerDetail(CustomerOut):
    identities: list[IdentityOut]
    duplicate_ids: list[str]


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class IdentityIn(StrictSchema):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=254)


class ResolveIn(StrictSchema):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=254)
    also: list[IdentityIn] = Field(default_factory=list, max_length=10)
    host_token: str | None = Field(None, max_length=2000)


class ResolveOut(Schema):
    customer_id: str
    created: bool
    linked: list[str]
    conflicts: list[str]


class TimelineItemOut(Schema):
    occurred_at: datetime
    kind: str
    ref: str
    title: str
    data: dict[str, Any]


class TimelinePageOut(Schema):
    items: list[TimelineItemOut]
    next_cursor: str | None


class ConsentIn(StrictSchema):
    purpose: ConsentPurpose
    channel: str = Field(min_length=1, max_length=20)
    granted: bool
    source: str = Field("api", max_length=40)
    text_version: str = Field("", max_length=40)


class ConsentOut(Schema):
    purpose: str
    channel: str
    granted: bool
    updated_at: datetime


class ConsentRecordOut(Schema):
    purpose: str
    channel: str
    granted: bool
    source: str
    text_version: str
    occurred_at: datetime


class ConsentsOut(Schema):
    current: list[ConsentOut]
    history: list[ConsentRecordOut]


class MergeIn(StrictSchema):
    merged_id: str = Field(min_length=1, max_length=32)


class MergeOut(Schema):
    id: str
    survivor_id: str
    merged_id: str
    status: str
    conflicts: dict[str, Any]
    created_at: datetime


class DuplicateOut(Schema):
    id: str
    first_id: str
    second_id: str
    score: float
    reasons: list[str]
    status: str


class DuplicatePage(Schema):
    items: list[DuplicateOut]
    next_cursor: str | None


class ScanOut(Schema):
    added: int


class AttributeIn(StrictSchema):
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    type: AttributeType
    label: str = Field("", max_length=120)
    choices: list[str] = Field(default_factory=list, max_length=100)


class AttributeOut(Schema):
    id: str  # the key: attributes are addressed by key
    key: str
    type: str
    label: str
    choices: list[str]


class AttributePage(Schema):
    items: list[AttributeOut]


class ClaimIn(StrictSchema):
    visitor_id: str = Field(min_length=1, max_length=254)
    kind: Literal["email", "phone"]
    value: str = Field(min_length=1, max_length=254)


class ClaimOut(Schema):
    claim_id: str
    customer_id: str  # the visitor's own profile; never the profile that may hold the contact
    status: str


class CodeIn(StrictSchema):
    code: str = Field(min_length=4, max_length=12)


class ItemIn(StrictSchema):
    sku: str = Field(min_length=1, max_length=80)
    name: str = Field("", max_length=200)
    category: str = Field("", max_length=80)
    quantity: int = Field(ge=1, le=100000)
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=2)


class OrderIn(StrictSchema):
    external_id: str = Field(min_length=1, max_length=120)
    status: OrderStatus
    currency: str = Field(min_length=3, max_length=3)
    total: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    customer_id: str | None = Field(None, max_length=32)
    identity: IdentityIn | None = None
    items: list[ItemIn] | None = Field(None, max_length=500)
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    carrier: str | None = Field(None, max_length=60)
    tracking_number: str | None = Field(None, max_length=80)
    promised_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


class OrderBatchIn(StrictSchema):
    orders: list[OrderIn] = Field(min_length=1, max_length=500)


class ItemOut(Schema):
    sku: str
    name: str
    category: str
    quantity: int
    price: Decimal


class OrderOut(Schema):
    id: str
    external_id: str
    customer_id: str
    status: str
    currency: str
    total: Decimal
    items: list[ItemOut]
    placed_at: datetime | None
    paid_at: datetime | None
    carrier: str
    tracking_number: str
    promised_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class OrderBatchOut(Schema):
    items: list[OrderOut]
    created: int
    updated: int


class ReturnItemIn(StrictSchema):
    sku: str = Field(min_length=1, max_length=80)
    quantity: int = Field(ge=1)
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)


class ReturnIn(StrictSchema):
    reason: ReturnReason
    items: list[ReturnItemIn] = Field(min_length=1, max_length=500)
    external_id: str = Field("", max_length=120)


class ReturnOut(Schema):
    id: str
    order_id: str
    reason: str
    amount: Decimal
    order_status: str


class ImportIn(StrictSchema):
    what: Literal["customers", "orders"] = "customers"
    csv: str = Field(min_length=1)
    dry_run: bool = False
    mode: Literal["skip", "all_or_nothing"] = "skip"


class RowErrorOut(Schema):
    row: int
    field: str
    reason: str


class ImportOut(Schema):
    rows: int
    imported: int
    updated: int
    skipped: int
    dry_run: bool
    errors: list[RowErrorOut]


class SettingsIn(StrictSchema):
    default_region: str = Field(min_length=2, max_length=2)


class SettingsOut(Schema):
    default_region: str
    identity_secret: str  # host sites sign identity tokens with it (HMAC-SHA256)
