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


def test_per_step_forms_edit_add_and_delete_steps():
    owner = make_user()
    ws = make_workspace(owner=owner)
    with transaction.atomic():
        s = services.scenario_create(actor=SYSTEM, workspace=ws, name="Steps", definition=BASE)
    c = _client(owner, ws)
    url = f"/scenarios/{s.public_id}/"
    fixed_b = dict(BASE["steps"]["b"], **{"else": "pause"})
    assert (
        c.post(url, {"action": "step_save", "step_id": "b", "step": yaml.safe_dump(fixed_b)}).status_code
        == 302
    )
    assert c.post(url, {"action": "step_add", "step_id": "pause", "step_type": "wait"}).status_code == 302
    page = c.get(url).content.decode()
    assert "to fix before publishing" not in page  # the wait breaks the loop: the graph is valid now
    definition = s.versions.get().definition
    assert definition["steps"]["pause"] == {"type": "wait", "duration": "1h", "next": "end"}
    assert c.post(url, {"action": "step_delete", "step_id": "pause"}).status_code == 302
    assert "unknown step &#x27;pause&#x27;" in c.get(url).content.decode()
