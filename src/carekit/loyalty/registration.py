"""Register loyalty's providers in the customers context's registries (docs/contracts.md)."""

from __future__ import annotations

from carekit.customers import public as customers
from carekit.loyalty import customer_providers

PROVIDER = "loyalty"


def register() -> None:
    customers.register_merge_provider(PROVIDER, merge=customer_providers.merge, unmerge=customer_providers.unmerge)
    customers.register_erasure_provider(PROVIDER, customer_providers.erase)
    customers.register_export_provider(PROVIDER, customer_providers.export)
    for model, field in customer_providers.REFERENCES:
        customers.register_customer_reference(model, field, PROVIDER)
