"""Turn a bearer token or a signed-in session into a core Principal (registered at start-up)."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.http import HttpRequest

from carekit.accounts import selectors, services
from carekit.accounts.permissions import scopes_for_role
from carekit.core.api.auth import Principal
from carekit.core.events import Actor

SESSION_WORKSPACE_KEY = "carekit_workspace"
TWO_FACTOR_OK_KEY = "carekit_2fa_ok"


# Integrations call the API many times a second with the same token: a verified token is remembered
# in this process for API_TOKEN_CACHE_SECONDS. A revocation clears this process's entry at once and
# reaches other processes within that time (ADR 0004).
_TOKEN_CACHE: dict[str, tuple[float, Principal]] = {}
_TOKEN_CACHE_MAX = 10_000


def from_token(raw: str) -> Principal | None:
    ttl = settings.API_TOKEN_CACHE_SECONDS
    key = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    if ttl > 0:
        hit = _TOKEN_CACHE.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
    token = services.api_token_check(raw)
    if token is None:
        _TOKEN_CACHE.pop(key, None)
        return None
    principal = Principal(
        workspace_id=token.workspace.pk,
        workspace_public_id=token.workspace.public_id,
        actor=Actor.of_token(token.public_id),
        scopes=frozenset(token.scopes),
        token_id=token.pk,
    )
    if ttl > 0:
        if len(_TOKEN_CACHE) >= _TOKEN_CACHE_MAX:
            _TOKEN_CACHE.clear()
        _TOKEN_CACHE[key] = (time.monotonic() + ttl, principal)
    return principal


def forget_token(token_id: int) -> None:
    """Drop a token from this process's cache (called after a revocation commits)."""
    for key, (_, principal) in list(_TOKEN_CACHE.items()):
        if principal.token_id == token_id:
            _TOKEN_CACHE.pop(key, None)


def from_session(request: HttpRequest, workspace_public_id: str | None) -> Principal | None:
    user = request.user
    wanted = workspace_public_id or request.session.get(SESSION_WORKSPACE_KEY)
    membership = selectors.membership_for(user=user, workspace_public_id=wanted)  # type: ignore[arg-type]
    if membership is None:
        return None
    if membership.workspace.require_two_factor and not request.session.get(TWO_FACTOR_OK_KEY):
        return None
    return Principal(
        workspace_id=membership.workspace.pk,
        workspace_public_id=membership.workspace.public_id,
        actor=Actor.of_user(user.public_id),  # type: ignore[union-attr]
        scopes=scopes_for_role(membership.role),
        user_id=user.pk,
    )
