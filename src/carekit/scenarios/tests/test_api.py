"""API behaviour: the editor's errors name the step, drafts dry-run, runs show their trace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from carekit.core.ids import new_public_id
from carekit.scenarios.models import Run
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import emit_at
from carekit.testing.outbound import recording

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

LOOP = {
    "schema": 1,
    "trigger": {"event": "customers.order.returned"},
    "start": "a",
    "steps": {
        "a": {"type": "action", "action": "customer.tag", "params": {"tag": "x"}, "next": "b"},
        "b": {
            "type": "condition",
            "else": "a",
            "cases": [
                {"name": "vip", "when": [{"var": "customer.shoe_size", "op": "eq", "value": 1}], "next": "c"}
            ],
        },
        "c": {"type": "action", "action": "customer.tag", "params": {"tag": "y"}},
    },
}


def test_invalid_graph_cannot_be_published_and_the_answer_names_each_step(api):
    created = api.post("/scenarios", {"name": "Broken", "definition": LOOP}).json()
    version = api.get(f"/scenarios/{created['id']}/versions").json()["items"][0]
    check = api.post(f"/scenarios/{created['id']}/versions/{version['id']}/validate").json()
    assert check["valid"] is False
    assert {(p["step"], p["code"]) for p in check["problems"]} == {
        ("b", "unknown_variable"),
        ("c", "dangling_branch"),
    }
    resp = api.post(f"/scenarios/{created['id']}/versions/{version['id']}/publish")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_scenario"
    assert resp.json()["error"]["details"]["problems"] == check["problems"]
    LOOP["steps"]["b"]["cases"][0]["when"][0]["var"] = "customer.language"
    LOOP["steps"]["c"]["next"] = "end"
    api.put(f"/scenarios/{created['id']}/draft", {"definition": LOOP})
    resp = api.post(f"/scenarios/{created['id']}/versions/{version['id']}/publish")
    assert resp.json()["error"]["details"]["problems"] == [
        {
            "step": "a",
            "code": "cycle_without_wait",
            "message": "a loop through 'b' back to 'a' has no wait step",
        }
    ]


def test_template_create_dry_run_publish_and_trace(api, workspace, django_capture_on_commit_callbacks):
    created = api.post("/scenarios", {"name": "Defects", "template": "defective_item"})
    assert created.status_code == 201
    sid = created.json()["id"]
    cid = factories.customer(workspace)
    ret = {
        "order_id": new_public_id("ord"),
        "customer_id": cid,
        "return_id": "ret_1",
        "reason": "defect",
        "items": [],
        "amount": "10.00",
        "currency": "RUB",
    }
    emit_at(
        workspace,
        django_capture_on_commit_callbacks,
        "customers.order.returned",
        ret,
        timezone.now() - timedelta(days=3),
    )
    version = api.get(f"/scenarios/{sid}/versions").json()["items"][0]
    report = api.post(f"/scenarios/{sid}/versions/{version['id']}/dry-run", {"days": 7}).json()
    assert report["entries"] == 1
    assert report["statuses"] == {"completed": 1}  # the 48 h wait timed out within the window
    assert report["branches"] == {"wait_exchange": {"timeout": 1}}
    assert not Run.objects.exists()
    assert api.post(f"/scenarios/{sid}/versions/{version['id']}/publish").json()["status"] == "published"
    with recording("email"):
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            "customers.order.returned",
            {**ret, "order_id": new_public_id("ord")},
            timezone.now(),
        )
    runs = api.get(f"/scenarios/{sid}/runs").json()["items"]
    assert [r["status"] for r in runs] == ["waiting"]
    detail = api.get(f"/scenario-runs/{runs[0]['id']}").json()
    assert [t["step"] for t in detail["trace"]] == ["", "apology", "offer", "wait_exchange"]
    exported = api.get(f"/scenarios/{sid}/versions/{version['id']}/export?format=yaml").json()
    assert exported["text"].startswith("carekit_scenario: 1")
