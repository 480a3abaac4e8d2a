"""Accounts API: the current workspace, members, teams and API tokens. Thin: parse, scope, call, serialize."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from carekit.accounts import invitations, selectors, services
from carekit.accounts.enums import Role
from carekit.accounts.models import ApiToken, Membership, Team
from carekit.accounts.permissions import SCOPES
from carekit.core.api import StrictSchema, need, paginate
from carekit.core.models import Workspace

router = Router(tags=["accounts"])


class WorkspaceOut(Schema):
    id: str
    name: str
    slug: str
    default_language: str
    timezone: str
    require_two_factor: bool


class MemberOut(Schema):
    id: str
    email: str
    full_name: str
    role: str


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class MemberPatch(StrictSchema):
    role: Role


class MemberIn(StrictSchema):
    email: str = Field(min_length=3, max_length=254)
    role: Role
    full_name: str = Field(default="", max_length=200)


class WorkspacePatch(StrictSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    default_language: str | None = None
    timezone: str | None = None
    require_two_factor: bool | None = None


class TeamOut(Schema):
    id: str
    name: str
    member_ids: list[str]


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class TeamIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)


class TeamMemberIn(StrictSchema):
    member_id: str = Field(min_length=1, max_length=32)


class TokenOut(Schema):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: str | None


class TokenIn(StrictSchema):
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1, max_length=50)


class TokenCreated(TokenOut):
    secret: str = Field(description="Shown once; store it now.")


def _member(m: Membership) -> dict[str, Any]:
    return {"id": m.public_id, "email": m.user.email, "full_name": m.user.full_name, "role": m.role}


def _team(t: Team) -> dict[str, Any]:
    return {
        "id": t.public_id,
        "name": t.name,
        "member_ids": [tm.membership.public_id for tm in t.members.all()],
    }


def _token(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.public_id,
        "name": t.name,
        "prefix": t.prefix,
        "scopes": t.scopes,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


def _workspace(ws: Workspace) -> dict[str, Any]:
    return {
        "id": ws.public_id,
        "name": ws.name,
        "slug": ws.slug,
        "default_language": ws.default_language,
        "timezone": ws.time_zone,
        "require_two_factor": ws.require_two_factor,
    }


@router.get("/workspace", response=WorkspaceOut, summary="The workspace this call acts in")
def get_workspace(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "accounts:read")
    return _workspace(selectors.workspace(p.workspace_id))


@router.patch("/workspace", response=WorkspaceOut, summary="Change the workspace's settings")
def update_workspace(request: HttpRequest, body: WorkspacePatch) -> dict[str, Any]:
    p = need(request, "workspace:manage")
    with transaction.atomic(durable=True):
        ws = selectors.workspace(p.workspace_id)
        services.workspace_update(
            actor=p.actor,
            workspace=ws,
            name=body.name,
            default_language=body.default_language,
            time_zone=body.timezone,
        )
        if body.require_two_factor is not None:
            services.workspace_set_two_factor(actor=p.actor, workspace=ws, required=body.require_two_factor)
    return _workspace(ws)


@router.get("/scopes", response=dict[str, str], summary="Every permission scope a token may carry")
def list_scopes(request: HttpRequest) -> dict[str, str]:
    need(request, "tokens:manage")
    return SCOPES


@router.get("/members", response=MemberPage)
def list_members(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "accounts:read")
    page = paginate(selectors.members(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_member(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/members", response={201: MemberOut}, summary="Invite a person by email")
def invite_member(request: HttpRequest, body: MemberIn) -> Status:
    p = need(request, "accounts:write")
    with transaction.atomic(durable=True):
        m = services.member_invite(
            actor=p.actor,
            workspace=selectors.workspace(p.workspace_id),
            email=body.email,
            role=body.role,
            full_name=body.full_name,
        )
        if not m.user.has_usable_password():
            user_id = m.user.pk
            transaction.on_commit(lambda: invitations.send_invitation(user_id, m.workspace.name))
    return Status(201, _member(m))


@router.patch("/members/{member_id}", response=MemberOut)
def change_member_role(request: HttpRequest, member_id: str, body: MemberPatch) -> dict[str, Any]:
    p = need(request, "accounts:write")
    with transaction.atomic(durable=True):
        m = selectors.member(p.workspace_id, member_id)
        services.member_change_role(actor=p.actor, membership=m, role=body.role)
    return _member(m)


@router.delete("/members/{member_id}", response={204: None})
def remove_member(request: HttpRequest, member_id: str) -> Status:
    p = need(request, "accounts:write")
    with transaction.atomic(durable=True):
        services.member_remove(actor=p.actor, membership=selectors.member(p.workspace_id, member_id))
    return Status(204, None)


@router.get("/teams", response=TeamPage)
def list_teams(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "accounts:read")
    page = paginate(selectors.teams(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_team(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/teams", response={201: TeamOut})
def create_team(request: HttpRequest, body: TeamIn) -> Status:
    p = need(request, "accounts:write")
    with transaction.atomic(durable=True):
        team = services.team_create(
            actor=p.actor, workspace=selectors.workspace(p.workspace_id), name=body.name
        )
    return Status(201, {"id": team.public_id, "name": team.name, "member_ids": []})


@router.get("/teams/{team_id}", response=TeamOut)
def get_team(request: HttpRequest, team_id: str) -> dict[str, Any]:
    p = need(request, "accounts:read")
    return _team(selectors.teams(p.workspace_id).get(public_id=team_id))


@router.post("/teams/{team_id}/members", response=TeamOut)
def add_team_member(request: HttpRequest, team_id: str, body: TeamMemberIn) -> dict[str, Any]:
    p = need(request, "accounts:write")
    with transaction.atomic(durable=True):
        team = selectors.team(p.workspace_id, team_id)
        m = selectors.member(p.workspace_id, body.member_id)
        services.team_add_member(actor=p.actor, team=team, membership=m)
    return _team(selectors.teams(p.workspace_id).get(pk=team.pk))


@router.delete("/teams/{team_id}/members/{member_id}", response={204: None})
def remove_team_member(request: HttpRequest, team_id: str, member_id: str) -> Status:
    p = need(request, "accounts:write")
    with transaction.atomic(durable=True):
        team = selectors.team(p.workspace_id, team_id)
        services.team_remove_member(
            actor=p.actor, team=team, membership=selectors.member(p.workspace_id, member_id)
        )
    return Status(204, None)


@router.get("/tokens", response=TokenPage)
def list_tokens(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "tokens:manage")
    page = paginate(selectors.tokens(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_token(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/tokens", response={201: TokenCreated})
def create_token(request: HttpRequest, body: TokenIn) -> Status:
    p = need(request, "tokens:manage")
    with transaction.atomic(durable=True):
        issued = services.api_token_create(
            actor=p.actor,
            workspace=selectors.workspace(p.workspace_id),
            name=body.name,
            scopes=body.scopes,
            held_scopes=p.scopes,
            created_by=request.user if p.user_id else None,  # type: ignore[arg-type]
        )
    return Status(201, {**_token(issued.token), "secret": issued.secret})


@router.delete("/tokens/{token_id}", response=TokenOut)
def revoke_token(request: HttpRequest, token_id: str) -> dict[str, Any]:
    p = need(request, "tokens:manage")
    with transaction.atomic(durable=True):
        t = services.api_token_revoke(actor=p.actor, token=selectors.token(p.workspace_id, token_id))
    return _token(t)
