"""Register loyalty's providers in the customers context's registries (docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from carekit.customers import public as customers
from carekit.loyalty import customer_providers

# The providers are written against a read/write Protocol of the context's fields; MergeContext is a
# frozen dataclass with the same fields, which mypy does not accept as that Protocol.
_Provider = Callable[[customers.MergeContext], None]

PROVIDER = "loyalty"


def register() -> None:
    customers.register_merge_provider(
        PROVIDER,
        merge=cast(_Provider, customer_providers.merge),
        unmerge=cast(_Provider, customer_providers.unmerge),
    )
    customers.register_erasure_provider(PROVIDER, customer_providers.erase)
    customers.register_export_provider(PROVIDER, customer_providers.export)
    for model, field in customer_providers.REFERENCES:
        customers.register_customer_reference(model, field, PROVIDER)
