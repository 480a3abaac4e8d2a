"""The bot API end to end: understand, examples, background retraining."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_understand_endpoint(api):
    resp = api.post("/bot/understand", {"text": "хочу вернуть платье, заказ 55871"})
    assert resp.status_code == 200
    body = resp.json()
    assert (body["language"], body["intent"], body["out_of_scope"]) == ("ru", "return_item", False)
    assert body["entities"] == [{"kind": "order_number", "value": "55871", "text": "55871"}]


def test_understand_refuses_unknown_fields(api):
    assert api.post("/bot/understand", {"text": "hi", "prompt": "x"}).status_code == 422


def test_retraining_runs_in_the_background_and_activates(api, django_capture_on_commit_callbacks):
    assert api.post("/bot/examples", {"text": "чё по заказу", "intent": "order_status"}).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post("/bot/models", {})
    assert resp.status_code == 202
    assert resp.json()["status"] == "training"
    model = api.get(f"/bot/models/{resp.json()['id']}").json()
    assert (model["status"], model["progress"], model["version"]) == ("active", 100, 1)
    assert model["figures"]["features"] in {"word+char", "word", "char"}
    assert api.post("/bot/understand", {"text": "hello"}).json()["model_version"] == 1
