"""Reads for accounts. Every selector of tenant data takes the workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from carekit.accounts.models import ApiToken, Membership, Team, User
from carekit.core.models import Workspace


def membership_for(*, user: User, workspace_public_id: str | None) -> Membership | None:
    qs = Membership.objects.select_related("workspace").filter(user=user)
    if workspace_public_id:
        return qs.filter(workspace__public_id=workspace_public_id).first()
    return qs.order_by("created_at", "id").first()


def workspaces_of(user: User) -> list[Workspace]:
    return [
        m.workspace
        for m in Membership.objects.select_related("workspace").filter(user=user).order_by("workspace__name")
    ]


def members(workspace_id: int) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(workspace_id=workspace_id)


def member(workspace_id: int, public_id: str) -> Membership:
    return Membership.objects.select_related("user", "workspace").get(
        workspace_id=workspace_id, public_id=public_id
    )


def teams(workspace_id: int) -> QuerySet[Team]:
    return Team.objects.filter(workspace_id=workspace_id).prefetch_related("members__membership")


def team(workspace_id: int, public_id: str) -> Team:
    return Team.objects.select_related("workspace").get(workspace_id=workspace_id, public_id=public_id)


def tokens(workspace_id: int) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(workspace_id=workspace_id)


def token(workspace_id: int, public_id: str) -> ApiToken:
    return ApiToken.objects.select_related("workspace").get(workspace_id=workspace_id, public_id=public_id)


def workspace(workspace_id: int) -> Workspace:
    return Workspace.objects.get(pk=workspace_id)
