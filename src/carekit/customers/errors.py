"""Customers' domain errors; the API maps them to the error envelope with their status."""

from __future__ import annotations

from carekit.core.errors import DomainError


class InvalidValue(DomainError):
    code = "invalid_value"
    status = 422


class NotFound(DomainError):
    """A referenced id unknown in this workspace (another workspace's id included): 404, never a leak."""

    code = "not_found"
    status = 404
