"""The editor pages: the flow names each step's problem, publishing refuses an invalid graph."""

from __future__ import annotations

import pytest
import yaml
from django.db import transaction
from django.test import Client

from carekit.accounts.enums import Role
from carekit.scenarios import services
from carekit.scenarios.enums import VersionStatus
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import SYSTEM
from carekit.scenarios.tests.test_definition import BASE
from carekit.testing.tenants import add_member, make_user, make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _client(user, workspace) -> Client:
    c = Client()
    c.force_login(user)
    s = c.session
    s["carekit_workspace"] = workspace.public_id
    s.save()
    return c


def test_editor_shows_problems_per_step_and_publishes_only_a_valid_graph():
    owner = make_user()
    ws = make_workspace(owner=owner)
    with transaction.atomic():
        s = services.scenario_create(actor=SYSTEM, workspace=ws, name="Loop", definition=BASE)
    c = _client(owner, ws)
    assert "Loop" in c.get("/scenarios/").content.decode()
    page = c.get(f"/scenarios/{s.public_id}/").content.decode()
    assert "a: a loop through &#x27;b&#x27; back to &#x27;a&#x27; has no wait step" in page
    refused = c.post(f"/scenarios/{s.public_id}/", {"action": "publish", "definition": yaml.safe_dump(BASE)})
    assert refused.status_code == 200
    assert "cannot be published" in refused.content.decode()
    assert s.versions.get().status == VersionStatus.DRAFT
    fixed = factories.template("defective_item")
    done = c.post(f"/scenarios/{s.public_id}/", {"action": "publish", "definition": yaml.safe_dump(fixed)})
    assert done.status_code == 302
    assert s.versions.get().status == VersionStatus.PUBLISHED
    assert s.versions.get().definition == fixed


def test_agents_read_but_cannot_publish_and_other_workspaces_are_404():
    owner, agent = make_user(), make_user()
    ws = make_workspace(owner=owner)
    add_member(ws, Role.AGENT, user=agent)
    other = factories.published(make_workspace(), factories.template("win_back"))
    with transaction.atomic():
        s = services.scenario_create(actor=SYSTEM, workspace=ws, name="Mine", definition=BASE)
    c = _client(agent, ws)
    assert c.get(f"/scenarios/{s.public_id}/").status_code == 200
    assert c.post(f"/scenarios/{s.public_id}/", {"action": "publish", "definition": "{}"}).status_code == 403
    assert c.get(f"/scenarios/{other.public_id}/").status_code == 404
