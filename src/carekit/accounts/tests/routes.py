"""Route cases for the accounts API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.accounts import services
from carekit.accounts.enums import Role
from carekit.core.models import Workspace
from carekit.testing.routes import RouteCall, route_case
from carekit.testing.tenants import SYSTEM, add_member


def _team(ws: Workspace, name: str = "Support"):
    with transaction.atomic():
        return services.team_create(actor=SYSTEM, workspace=ws, name=f"{name} {ws.pk}")


def _token(ws: Workspace):
    with transaction.atomic():
        return services.api_token_create(
            actor=SYSTEM,
            workspace=ws,
            name="other",
            scopes=["audit:read"],
            held_scopes=frozenset({"*"}),
            created_by=None,
        ).token


@route_case("GET", "/workspace", scope="accounts:read")
def _workspace(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/workspace", kind="plain")


@route_case("GET", "/scopes", scope="tokens:manage")
def _scopes(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/scopes", kind="plain")


@route_case("GET", "/members", scope="accounts:read")
def _members(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = add_member(own), add_member(other)
    return RouteCall("/members", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("PATCH", "/members/{member_id}", scope="accounts:write")
def _member_patch(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/members/{add_member(other).public_id}", body={"role": Role.SUPERVISOR})


@route_case("DELETE", "/members/{member_id}", scope="accounts:write")
def _member_delete(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/members/{add_member(other).public_id}")


@route_case("GET", "/teams", scope="accounts:read")
def _teams(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = _team(own), _team(other)
    return RouteCall("/teams", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/teams", scope="accounts:write")
def _team_create(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/teams", body={"name": "Returns"}, kind="plain")


@route_case("GET", "/teams/{team_id}", scope="accounts:read")
def _team_get(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/teams/{_team(other).public_id}")


@route_case("POST", "/teams/{team_id}/members", scope="accounts:write")
def _team_add(own: Workspace, other: Workspace) -> RouteCall:
    # The foreign reference is in the body: a member of another workspace joining one of ours.
    return RouteCall(
        f"/teams/{_team(own).public_id}/members", body={"member_id": add_member(other).public_id}
    )


@route_case("DELETE", "/teams/{team_id}/members/{member_id}", scope="accounts:write")
def _team_remove(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/teams/{_team(other).public_id}/members/{add_member(other).public_id}")


@route_case("GET", "/tokens", scope="tokens:manage")
def _tokens(own: Workspace, other: Workspace) -> RouteCall:
    mine, theirs = _token(own), _token(other)
    return RouteCall("/tokens", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/tokens", scope="tokens:manage")
def _token_create(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/tokens", body={"name": "shop", "scopes": ["audit:read"]}, kind="plain")


@route_case("DELETE", "/tokens/{token_id}", scope="tokens:manage")
def _token_revoke(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/tokens/{_token(other).public_id}")


@route_case("PATCH", "/workspace", scope="workspace:manage")
def _workspace_patch(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/workspace", body={"timezone": "Europe/Moscow"}, kind="plain")


@route_case("POST", "/members", scope="accounts:write")
def _member_invite(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/members", body={"email": "new.agent@example.test", "role": "agent"}, kind="plain")
