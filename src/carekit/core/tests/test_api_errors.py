"""Bad input gets the error envelope with a stable code and never a 500; nothing is written."""

import pytest

from carekit.accounts.models import Team

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _error(resp):
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_malformed_json_is_400(api):
    resp = api.post("/teams", raw='{"name": "Support",')
    assert resp.status_code == 400
    assert _error(resp)["code"] == "malformed_json"
    assert Team.objects.count() == 0


def test_unknown_field_is_422_naming_it(api):
    resp = api.post("/teams", {"name": "Support", "colour": "red"})
    assert resp.status_code == 422
    err = _error(resp)
    assert err["code"] == "validation_error"
    assert [d["field"] for d in err["details"]] == ["colour"]
    assert Team.objects.count() == 0


def test_wrong_type_is_422(api):
    resp = api.post("/teams", {"name": ["Support"]})
    assert resp.status_code == 422
    assert _error(resp)["details"][0]["field"] == "name"


def test_body_that_is_not_an_object_is_422(api):
    resp = api.post("/teams", raw="[1, 2, 3]")
    assert resp.status_code in {400, 422}
    assert _error(resp)["code"] in {"validation_error", "malformed_json"}


def test_oversized_body_is_413_before_reading(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    resp = api.post("/teams", {"name": "x" * 2000})
    assert resp.status_code == 413
    assert _error(resp)["code"] == "payload_too_large"
    assert Team.objects.count() == 0


def test_missing_and_bad_token_are_401(client, workspace):
    assert _error(client.get("/api/v1/teams"))["code"] == "unauthenticated"
    resp = client.get("/api/v1/teams", HTTP_AUTHORIZATION="Bearer ck_nope_nope")
    assert resp.status_code == 401
    resp = client.get("/api/v1/teams", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    assert resp.status_code == 401


def test_unknown_route_and_method(api):
    assert api.get("/no-such-thing").status_code == 404
    resp = api.put("/teams", {"name": "x"})
    assert resp.status_code == 405


def test_invalid_cursor_is_400(api):
    resp = api.get("/teams", cursor="garbage")
    assert resp.status_code == 400
    assert _error(resp)["code"] == "invalid_cursor"


def test_limit_out_of_range_is_422(api):
    resp = api.get("/teams", limit=100000)
    assert resp.status_code == 422
