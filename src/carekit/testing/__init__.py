"""Test helpers shared by every context: factories for tenants and callers, and checks for what breaks
silently (transactions, on-commit effects, tenant isolation). Never imported by production code."""
