"""Cross-context registries (ARCHITECTURE.md rule 10): merge, erasure, export, timeline.

Other contexts register providers through `carekit.customers.public`; customers never imports them.
The shapes are fixed in docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model


@dataclass(frozen=True)
class MergeContext:
    """What a merge provider needs. `merge_id` is the audit record's id (usable as an idempotency key).

    On unmerge, `row_ids[provider]` lists the primary keys of that provider's rows that referenced the
    merged customer before the merge (they move back), and `identity_ids` the identities that move back
    (rows that arrived after the merge through one of them move back too; everything else stays).
    """

    workspace_id: int
    survivor_id: str
    merged_id: str
    merge_id: str
    row_ids: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    identity_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimelineQuery:
    workspace_id: int
    customer_id: str
    # Items at or older than this (the page cursor); the timeline drops those already shown.
    before: datetime | None = None
    limit: int = 50
    kinds: frozenset[str] = frozenset()  # empty: every kind


@dataclass(frozen=True)
class TimelineItem:
    occurred_at: datetime
    kind: str  # "<context>.<what>", e.g. customers.order, conversations.message
    ref: str  # an opaque id of the row behind the item
    title: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeProvider:
    name: str
    merge: Callable[[MergeContext], None]
    unmerge: Callable[[MergeContext], None]


@dataclass(frozen=True)
class CustomerReference:
    model: type[Model]
    field: str
    provider: str


MERGE_PROVIDERS: dict[str, MergeProvider] = {}
ERASURE_PROVIDERS: dict[str, Callable[[int, str], None]] = {}
EXPORT_PROVIDERS: dict[str, Callable[[int, str], dict]] = {}
TIMELINE_PROVIDERS: dict[str, Callable[[TimelineQuery], list[TimelineItem]]] = {}
REFERENCES: dict[tuple[str, str], CustomerReference] = {}


def _once(registry: Mapping[str, Any], name: str, value: Any) -> None:
    current = registry.get(name)
    if current is not None and current != value:
        raise ValueError(f"provider {name!r} is already registered")


def register_merge_provider(
    name: str, *, merge: Callable[[MergeContext], None], unmerge: Callable[[MergeContext], None]
) -> None:
    provider = MergeProvider(name, merge, unmerge)
    _once(MERGE_PROVIDERS, name, provider)
    MERGE_PROVIDERS[name] = provider


def register_erasure_provider(name: str, erase: Callable[[int, str], None]) -> None:
    _once(ERASURE_PROVIDERS, name, erase)
    ERASURE_PROVIDERS[name] = erase


def register_export_provider(name: str, export: Callable[[int, str], dict]) -> None:
    _once(EXPORT_PROVIDERS, name, export)
    EXPORT_PROVIDERS[name] = export


def register_timeline_provider(name: str, items: Callable[[TimelineQuery], list[TimelineItem]]) -> None:
    _once(TIMELINE_PROVIDERS, name, items)
    TIMELINE_PROVIDERS[name] = items


def register_customer_reference(model: type[Model], field: str, provider: str) -> None:
    """Declare that `model.field` refers to a customer and which merge/erasure provider covers it."""
    model._meta.get_field(field)  # fails early on a typo
    REFERENCES[(model._meta.label_lower, field)] = CustomerReference(model, field, provider)


def unregister(name: str) -> None:
    """Tests only: drop a provider registered for one test."""
    for registry in (MERGE_PROVIDERS, ERASURE_PROVIDERS, EXPORT_PROVIDERS, TIMELINE_PROVIDERS):
        registry.pop(name, None)
    for key in [k for k, ref in REFERENCES.items() if ref.provider == name]:
        del REFERENCES[key]


CUSTOMER_REF_NAMES = ("customer", "customer_id", "customer_ref")


def looks_like_customer_reference(model: type[Model], field_name: str) -> bool:
    from carekit.customers.models import Customer

    f = model._meta.get_field(field_name)
    target = getattr(f, "related_model", None)
    if target is Customer:
        return True
    return f.name in CUSTOMER_REF_NAMES or f.name.endswith("_customer_id")


def unregistered_customer_references(models: list[type[Model]]) -> list[str]:
    """Model fields that refer to a customer without a registered provider (`app.model.field`)."""
    missing = []
    for model in models:
        for f in model._meta.get_fields():
            if f.auto_created or not getattr(f, "concrete", False):
                continue
            if not looks_like_customer_reference(model, f.name):
                continue
            ref = REFERENCES.get((model._meta.label_lower, f.name))
            covered = (
                ref is not None and ref.provider in MERGE_PROVIDERS and ref.provider in ERASURE_PROVIDERS
            )
            if not covered:
                missing.append(f"{model._meta.label_lower}.{f.name}")
    return missing
