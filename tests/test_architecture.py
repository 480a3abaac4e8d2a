"""The rules of ARCHITECTURE.md §4 that a machine can check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

pytestmark = [pytest.mark.sqlite]

SRC = Path(__file__).resolve().parent.parent / "src" / "carekit"
# Packages under src/carekit that are not bounded contexts.
NOT_CONTEXTS = {"core", "testing"}
# Tables that are not tenant-owned, and why.
GLOBAL_MODELS = {
    "core.Workspace": "the tenant itself",
    "core.WorkerHeartbeat": "infrastructure, not tenant data",
    "core.EventDelivery": "carries workspace_id (an integer) for speed; its event carries the workspace",
    "accounts.User": "a person may belong to several workspaces through Membership",
    "accounts.SignInThrottle": "keyed by login name before any workspace is known",
    "accounts.TotpDevice": "belongs to the user, across workspaces",
    "probe.ProbeEffect": "test and benchmark instrumentation",
}


def _production_modules():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if "tests" in rel.parts or "migrations" in rel.parts or rel.parts[0] == "testing":
            continue
        yield rel, ast.parse(path.read_text(), str(path))


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def test_contexts_import_each_other_only_through_public():
    bad = []
    for rel, tree in _production_modules():
        own = rel.parts[0] if len(rel.parts) > 1 else None
        for line, name in _imports(tree):
            parts = name.split(".")
            if parts[0] != "carekit" or len(parts) < 2:
                continue
            target = parts[1]
            if target == "testing":
                bad.append(f"{rel}:{line} production code imports the test helpers ({name})")
            elif own == "core" and target not in {"core", "__version__"}:
                bad.append(f"{rel}:{line} core imports a context ({name})")
            elif own and target not in NOT_CONTEXTS | {own} and len(parts) > 2 and parts[2] != "public":
                bad.append(f"{rel}:{line} imports {name}; import carekit.{target}.public instead")
    assert bad == []


def test_services_and_public_functions_never_open_a_durable_transaction():
    """ARCHITECTURE.md rule 8: only entry points (views, api, tasks, commands) open the durable one."""
    bad = []
    for rel, tree in _production_modules():
        if rel.name not in {"services.py", "public.py", "selectors.py", "handlers.py"}:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "durable":
                bad.append(f"{rel}:{node.value.lineno}")
    assert bad == []


def test_every_tenant_table_carries_the_workspace():
    missing = []
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model.__name__}"
        if not model.__module__.startswith("carekit.") or label in GLOBAL_MODELS:
            continue
        names = {f.name for f in model._meta.get_fields()}
        if "workspace" not in names:
            missing.append(label)
    assert missing == [], "tenant-owned models must have a `workspace` foreign key (or be listed as global)"


def test_statuses_are_enums():
    """A field named status/state/kind with no choices is a free string: make it a TextChoices."""
    loose = []
    for model in apps.get_models():
        if not model.__module__.startswith("carekit."):
            continue
        for field in model._meta.fields:
            if field.name in {"status", "state"} and not field.choices:
                loose.append(f"{model.__name__}.{field.name}")
    assert loose == []
