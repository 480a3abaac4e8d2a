"""Demo channels: each adapter that has a `demo` module adds its own (`carekit demo`)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from carekit.channels import adapters
from carekit.demo.public import DemoContext


def load(ctx: DemoContext) -> None:
    for info in sorted(pkgutil.iter_modules(adapters.__path__), key=lambda i: i.name):
        if info.ispkg and importlib.util.find_spec(f"{adapters.__name__}.{info.name}.demo") is not None:
            importlib.import_module(f"{adapters.__name__}.{info.name}.demo").load(ctx)
