"""The bot depends on the knowledge base; the knowledge base must never depend on the bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sqlite]


def test_knowledge_imports_nothing_from_the_bot():
    root = Path(__file__).resolve().parents[1]
    bad = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [f"{path.name}: {n}" for n in names if n.startswith("carekit.bot")]
    assert bad == []
