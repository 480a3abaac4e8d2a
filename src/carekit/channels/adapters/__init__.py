"""The adapter registry: one sub-package per provider kind (`adapters/<kind>/`).

Each sub-package exposes `ADAPTER`, an `Adapter`, and may register an outbound sender in core's registry
(ARCHITECTURE.md rule 10) from its `register()` hook. `load()` runs at start-up (ChannelsConfig.ready).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from carekit.core.errors import DomainError


@dataclass(frozen=True)
class Adapter:
    kind: str
    # Names of the keys allowed in Channel.config and Channel.secrets for this kind.
    config_keys: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()
    # Checks and normalises (config, secrets) before they are stored; raises DomainError.
    validate: Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]] | None = None
    # Registers outbound senders, periodic jobs, ... once per process.
    register: Callable[[], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_ADAPTERS: dict[str, Adapter] = {}


def add(adapter: Adapter) -> None:
    _ADAPTERS[adapter.kind] = adapter


def get(kind: str) -> Adapter:
    try:
        return _ADAPTERS[kind]
    except KeyError:
        raise DomainError(f"Unknown channel kind {kind!r}.", field="kind", code="unknown_kind") from None


def kinds() -> list[str]:
    return sorted(_ADAPTERS)


def load() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if adapter is None:
            continue
        add(adapter)
        if adapter.register:
            adapter.register()
