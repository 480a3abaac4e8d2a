"""Who is looking at the shell: the session's principal in its current workspace, and what they may see."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from carekit.accounts import public as accounts
from carekit.core.api.auth import Principal, WorkspaceAuth
from carekit.core.realtime import notifications
from carekit.ui import nav


def principal_of(request: HttpRequest) -> Principal | None:
    cached: Principal | None = getattr(request, "principal", None)
    if cached is not None or not request.user.is_authenticated:
        return cached
    return WorkspaceAuth()(request)


def workspace_view(
    scope: str | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A signed-in page in the current workspace; 403 page without the scope."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            principal = principal_of(request)
            if principal is None:
                return render(request, "ui/no_workspace.html", status=403)
            if scope and not principal.has(scope):
                return render(request, "ui/forbidden.html", {"scope": scope}, status=403)
            return view(request, principal, *args, **kwargs)

        return wrapper

    return decorator


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context for the shell (a context processor): navigation, workspaces, bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    principal = principal_of(request)
    workspaces = accounts.workspaces_of(user.pk)
    if principal is None:
        return {"shell": {"workspaces": workspaces, "nav": [], "principal": None}}
    current = request.resolver_match.url_name if request.resolver_match else ""
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    full = f"{namespace}:{current}" if namespace else current
    entries = [
        {"label": i.label, "url": reverse(i.url_name), "current": i.url_name == full}
        for i in nav.items()
        if i.scope is None or principal.has(i.scope)
    ]
    bell = notifications.bell_state(principal.workspace_id, principal.actor.id)
    return {
        "shell": {
            "principal": principal,
            "workspace_id": principal.workspace_public_id,
            "workspace_name": next(
                (w.name for w in workspaces if w.workspace_id == principal.workspace_public_id), ""
            ),
            "workspaces": workspaces,
            "nav": entries,
            "bell": bell,
            "bell_json": {"unread": bell.unread, "items": bell.items},
        }
    }
