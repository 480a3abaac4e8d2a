"""Scopes (permissions) and what each role holds. Tokens carry a subset of their creator's scopes.

A scope is `<area>:<action>`; `<area>:*` grants every action of an area and `*` grants everything.
Later contexts add their areas here.
"""

from __future__ import annotations

from carekit.accounts.enums import Role

SCOPES: dict[str, str] = {
    "audit:read": "Read the audit trail (domain events)",
    "events:manage": "See and retry failed event deliveries",
    "accounts:read": "See members and teams",
    "accounts:write": "Manage members and teams",
    "tokens:manage": "Create and revoke API tokens",
    "workspace:manage": "Change workspace settings (name, language, time zone, two-factor rule)",
    "knowledge:read": "Read and search knowledge-base articles",
    "knowledge:write": "Write, publish and archive knowledge-base articles",
    "bot:read": "Run the bot's language understanding; see models and training examples",
    "bot:manage": "Add training examples, retrain and activate bot models",
}

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.OWNER: frozenset({"*"}),
    Role.ADMIN: frozenset({"*"}),
    Role.SUPERVISOR: frozenset(
        {
            "audit:read",
            "accounts:read",
            "accounts:write",
            "knowledge:read",
            "knowledge:write",
            "bot:read",
            "bot:manage",
        }
    ),
    Role.AGENT: frozenset({"accounts:read", "knowledge:read", "bot:read"}),
    Role.MARKETER: frozenset({"accounts:read"}),
    Role.ANALYST: frozenset({"audit:read", "accounts:read"}),
}


def scopes_for_role(role: str) -> frozenset[str]:
    return ROLE_SCOPES[Role(role)]


def grants(held: frozenset[str], scope: str) -> bool:
    return "*" in held or scope in held or f"{scope.split(':')[0]}:*" in held


def is_known(scope: str) -> bool:
    if scope == "*":
        return True
    area, _, action = scope.partition(":")
    return scope in SCOPES or (action == "*" and any(s.startswith(f"{area}:") for s in SCOPES))
