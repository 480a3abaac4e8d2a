"""Turn a bearer token or a signed-in session into a core Principal (registered at start-up)."""

from __future__ import annotations

from django.http import HttpRequest

from carekit.accounts import selectors, services
from carekit.accounts.permissions import scopes_for_role
from carekit.core.api.auth import Principal
from carekit.core.events import Actor

SESSION_WORKSPACE_KEY = "carekit_workspace"
TWO_FACTOR_OK_KEY = "carekit_2fa_ok"


def from_token(raw: str) -> Principal | None:
    token = services.api_token_check(raw)
    if token is None:
        return None
    return Principal(
        workspace_id=token.workspace.pk,
        workspace_public_id=token.workspace.public_id,
        actor=Actor.of_token(token.public_id),
        scopes=frozenset(token.scopes),
        token_id=token.pk,
    )


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
