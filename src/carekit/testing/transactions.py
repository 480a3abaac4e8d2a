"""Enforce ARCHITECTURE.md rule 8: services and public functions run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

T = TypeVar("T")


def call_inside_transaction(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call a service inside an explicit outer transaction.

    A service that opens `transaction.atomic(durable=True)` itself raises RuntimeError here, which is
    the point: only entry points (views, endpoints, tasks, commands) may open the durable transaction.
    """
    with transaction.atomic():
        return fn(*args, **kwargs)
