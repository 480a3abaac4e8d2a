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
    "webhooks:manage": "Manage webhook subscriptions and see or resend deliveries",
    "customers:read": "See customer profiles, orders, consents and timelines",
    "customers:write": "Create and edit customers, orders, consents; resolve identities; import",
    "customers:merge": "Merge and unmerge customer profiles; review duplicates",
    "customers:privacy": "Export and erase a customer's personal data",
    "customers:admin": "Define custom customer attributes",
    "loyalty:read": "See loyalty programs, balances, coupons and the liability report",
    "loyalty:manage": "Configure loyalty programs, rules, tiers and coupons; adjust balances",
    "loyalty:checkout": "Quote, redeem, cancel and refund points and coupons at checkout",
    "loyalty:compensate": "Grant compensations within the program's cap and budget",
    "knowledge:read": "Read and search knowledge-base articles",
    "knowledge:write": "Write, publish and archive knowledge-base articles",
    "bot:read": "Run the bot's language understanding; see models and training examples",
    "bot:manage": "Add training examples, retrain and activate bot models",
    "inbox:read": "See conversations, messages, tasks and canned responses",
    "inbox:write": "Answer, assign, transfer, snooze, resolve and merge conversations; notes and tasks",
    "inbox:channel": "Post inbound messages through the API channel",
    "inbox:admin": "Configure routing rules, SLA policies, calendars, canned responses and API channels",
    "scenarios:read": "See scenarios, versions, runs with their traces, experiments and templates",
    "scenarios:write": "Create scenarios, edit drafts, import, dry-run",
    "scenarios:publish": "Publish versions, use the kill switch, start and stop experiments",
    "channels:read": "See channels, their health and quarantined input",
    "channels:manage": "Create and configure channels, rotate their secrets, deactivate them",
}

_GRANTS: dict[Role, set[str]] = {Role.OWNER: {"*"}, Role.ADMIN: {"*"}}


def _grant(role: Role, *scopes: str) -> None:
    """Each context adds its own lines below, so role definitions grow without edit conflicts."""
    _GRANTS.setdefault(role, set()).update(scopes)


# accounts and audit
_grant(Role.SUPERVISOR, "audit:read", "accounts:read", "accounts:write")
_grant(Role.AGENT, "accounts:read")
_grant(Role.MARKETER, "accounts:read")
_grant(Role.ANALYST, "audit:read", "accounts:read")
# customers
_grant(Role.SUPERVISOR, "customers:*")
_grant(Role.AGENT, "customers:read", "customers:write", "customers:merge")
_grant(Role.MARKETER, "customers:read")
_grant(Role.ANALYST, "customers:read")
# loyalty
_grant(Role.SUPERVISOR, "loyalty:read", "loyalty:compensate")
_grant(Role.AGENT, "loyalty:read", "loyalty:compensate")
_grant(Role.MARKETER, "loyalty:read", "loyalty:manage")
_grant(Role.ANALYST, "loyalty:read")
# knowledge base and bot
_grant(Role.SUPERVISOR, "knowledge:read", "knowledge:write", "bot:read", "bot:manage")
_grant(Role.AGENT, "knowledge:read", "bot:read")
# conversations
_grant(Role.SUPERVISOR, "inbox:*")
_grant(Role.AGENT, "inbox:read", "inbox:write")
_grant(Role.ANALYST, "inbox:read")
# scenarios
_grant(Role.SUPERVISOR, "scenarios:*")
_grant(Role.AGENT, "scenarios:read")
_grant(Role.MARKETER, "scenarios:*")
_grant(Role.ANALYST, "scenarios:read")
# channels
_grant(Role.SUPERVISOR, "channels:read")

ROLE_SCOPES: dict[Role, frozenset[str]] = {role: frozenset(scopes) for role, scopes in _GRANTS.items()}


def scopes_for_role(role: str) -> frozenset[str]:
    return ROLE_SCOPES[Role(role)]


def grants(held: frozenset[str], scope: str) -> bool:
    return "*" in held or scope in held or f"{scope.split(':')[0]}:*" in held


def is_known(scope: str) -> bool:
    if scope == "*":
        return True
    area, _, action = scope.partition(":")
    return scope in SCOPES or (action == "*" and any(s.startswith(f"{area}:") for s in SCOPES))
