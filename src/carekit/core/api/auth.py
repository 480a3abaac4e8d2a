"""Who is calling and in which workspace: bearer tokens for integrations, sessions for the UI.

Core cannot import accounts, so accounts registers the resolvers at start-up (`set_resolvers`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from ninja.utils import check_csrf

from carekit.core.api.errors import ApiError
from carekit.core.events import Actor

WORKSPACE_HEADER = "X-Carekit-Workspace"


@dataclass(frozen=True)
class Principal:
    workspace_id: int
    workspace_public_id: str
    actor: Actor
    scopes: frozenset[str]
    user_id: int | None = None
    token_id: int | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes or f"{scope.split(':')[0]}:*" in self.scopes or "*" in self.scopes


TokenResolver = Callable[[str], Principal | None]
SessionResolver = Callable[[HttpRequest, str | None], Principal | None]

_resolvers: dict[str, Callable] = {}


def set_resolvers(*, token: TokenResolver, session: SessionResolver) -> None:
    _resolvers["token"] = token
    _resolvers["session"] = session


class WorkspaceAuth:
    """Ninja auth callable: returns a Principal or None (401)."""

    def __call__(self, request: HttpRequest) -> Principal | None:
        header = request.headers.get("Authorization", "")
        principal: Principal | None = None
        if header:
            scheme, _, credential = header.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                return None
            principal = _resolvers["token"](credential.strip())
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            if request.method not in {"GET", "HEAD", "OPTIONS"}:
                csrf_error = check_csrf(request)
                if csrf_error:
                    raise ApiError(403, "csrf_failed", "CSRF verification failed.")
            principal = _resolvers["session"](request, request.headers.get(WORKSPACE_HEADER))
        if principal is not None:
            request.principal = principal  # type: ignore[attr-defined]  # read by need()
        return principal


def need(request: HttpRequest, scope: str) -> Principal:
    """The caller's principal, after checking it holds `scope`; 403 otherwise."""
    principal: Principal | None = getattr(request, "principal", None)
    if principal is None:
        raise ApiError(401, "unauthenticated", "Authentication is required.")
    if not principal.has(scope):
        raise ApiError(403, "forbidden", f"This action needs the {scope!r} permission.", {"scope": scope})
    return principal
