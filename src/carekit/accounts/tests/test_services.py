"""Accounts services: rules, events, and rule 8 (they run inside the caller's transaction)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from carekit.accounts import selectors, services
from carekit.accounts.enums import Role
from carekit.accounts.models import ApiToken, Membership
from carekit.core.errors import Conflict, NotAllowed
from carekit.core.models import Event
from carekit.testing.tenants import SYSTEM, add_member, api_caller, make_user
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_workspace_create_makes_the_creator_owner_and_records_events():
    owner = make_user()
    ws = call_inside_transaction(services.workspace_create, actor=SYSTEM, name="Moda", owner=owner)
    assert Membership.objects.get(workspace=ws).role == Role.OWNER
    types = list(Event.objects.filter(workspace=ws).order_by("id").values_list("type", flat=True))
    assert types == ["accounts.workspace.created", "accounts.member.added"]


def test_the_last_owner_cannot_be_demoted_or_removed(workspace):
    owner = Membership.objects.get(workspace=workspace, role=Role.OWNER)
    with pytest.raises(Conflict):
        call_inside_transaction(services.member_change_role, actor=SYSTEM, membership=owner, role=Role.AGENT)
    with pytest.raises(Conflict):
        call_inside_transaction(services.member_remove, actor=SYSTEM, membership=owner)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_token_cannot_carry_scopes_its_creator_lacks(workspace):
    with pytest.raises(NotAllowed):
        call_inside_transaction(
            services.api_token_create,
            actor=SYSTEM,
            workspace=workspace,
            name="x",
            scopes=["tokens:manage"],
            held_scopes=frozenset({"accounts:read", "accounts:write"}),
            created_by=None,
        )
    assert ApiToken.objects.count() == 0


def test_team_membership_is_per_workspace(workspace, other_workspace):
    team = call_inside_transaction(services.team_create, actor=SYSTEM, workspace=workspace, name="Returns")
    outsider = add_member(other_workspace)
    with pytest.raises(services.AccountsError):
        call_inside_transaction(services.team_add_member, actor=SYSTEM, team=team, membership=outsider)
    assert team.members.count() == 0


def test_token_secret_is_shown_once_and_stored_hashed(workspace):
    caller = api_caller(workspace)
    resp = caller.post("/tokens", {"name": "Shop", "scopes": ["audit:read"]})
    assert resp.status_code == 201
    secret = resp.json()["secret"]
    token = ApiToken.objects.get(public_id=resp.json()["id"])
    assert secret not in (token.digest, token.prefix)
    assert len(token.digest) == 64
    listed = caller.get("/tokens").json()["items"]
    assert all("secret" not in item for item in listed)


def test_revoked_token_is_refused_and_use_is_stamped(workspace):
    caller = api_caller(workspace, ["accounts:read", "tokens:manage"])
    assert caller.get("/workspace").status_code == 200
    token = ApiToken.objects.get(workspace=workspace, name="test")
    assert token.last_used_at is not None
    assert token.last_used_at <= timezone.now()
    assert caller.delete(f"/tokens/{token.public_id}").json()["revoked_at"] is not None
    assert caller.get("/workspace").status_code == 401


def test_role_change_through_the_api(workspace):
    caller = api_caller(workspace)
    agent = add_member(workspace, Role.AGENT)
    resp = caller.patch(f"/members/{agent.public_id}", {"role": "supervisor"})
    assert resp.json()["role"] == "supervisor"
    resp = caller.patch(f"/members/{agent.public_id}", {"role": "emperor"})
    assert resp.status_code == 422
    assert selectors.member(workspace.pk, agent.public_id).role == Role.SUPERVISOR


def test_invite_creates_a_passwordless_user_and_mails_a_link(workspace, django_capture_on_commit_callbacks):
    from carekit.testing.outbound import recording

    caller = api_caller(workspace)
    with recording("email") as mail, django_capture_on_commit_callbacks(execute=True):
        resp = caller.post("/members", {"email": "Olga@Example.test", "role": "agent", "full_name": "Olga"})
    assert resp.status_code == 201
    assert resp.json()["email"] == "olga@example.test"
    assert [m.to for m in mail.sent] == ["olga@example.test"]
    assert "/password-reset/" in mail.sent[0].body
    again = caller.post("/members", {"email": "olga@example.test", "role": "agent"})
    assert again.status_code == 409
    assert Membership.objects.filter(workspace=workspace, user__email="olga@example.test").count() == 1


def test_workspace_settings_validate_and_record(workspace):
    caller = api_caller(workspace)
    resp = caller.patch("/workspace", {"timezone": "Mars/Olympus"})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "timezone"
    resp = caller.patch("/workspace", {"timezone": "Europe/Moscow", "require_two_factor": True})
    assert resp.json()["timezone"] == "Europe/Moscow"
    assert resp.json()["require_two_factor"] is True
    types = set(Event.objects.filter(workspace=workspace).values_list("type", flat=True))
    assert {"accounts.workspace.updated", "accounts.workspace.two_factor_changed"} <= types
