"""What other contexts may use from accounts: frozen facts, never models."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from carekit.accounts.models import Membership, Team
from carekit.accounts.principals import SESSION_WORKSPACE_KEY


@dataclass(frozen=True)
class AgentRef:
    member_id: str
    user_id: str
    display_name: str
    role: str
    email: str = ""
    language: str = ""


@dataclass(frozen=True)
class TeamRef:
    team_id: str
    name: str
    member_ids: tuple[str, ...]


def agents(workspace_id: int) -> list[AgentRef]:
    rows = Membership.objects.select_related("user").filter(workspace_id=workspace_id).order_by("id")
    return [
        AgentRef(
            m.public_id,
            m.user.public_id,
            m.user.full_name or m.user.email,
            m.role,
            m.user.email,
            m.user.language,
        )
        for m in rows
    ]


def teams(workspace_id: int) -> list[TeamRef]:
    rows = (
        Team.objects.filter(workspace_id=workspace_id)
        .prefetch_related("members__membership")
        .order_by("name")
    )
    return [
        TeamRef(t.public_id, t.name, tuple(tm.membership.public_id for tm in t.members.all())) for t in rows
    ]


@dataclass(frozen=True)
class WorkspaceRef:
    workspace_id: str
    name: str
    role: str


def workspaces_of(user_id: int) -> list[WorkspaceRef]:
    """The workspaces a signed-in user belongs to (for the workspace switcher), by name."""
    rows = Membership.objects.select_related("workspace").filter(user_id=user_id).order_by("workspace__name")
    return [WorkspaceRef(m.workspace.public_id, m.workspace.name, m.role) for m in rows]


def switch_workspace(request: HttpRequest, workspace_public_id: str) -> bool:
    """Make a workspace the session's current one, if the signed-in user belongs to it."""
    user_id = request.user.pk
    if user_id is None or not any(w.workspace_id == workspace_public_id for w in workspaces_of(user_id)):
        return False
    request.session[SESSION_WORKSPACE_KEY] = workspace_public_id
    return True
