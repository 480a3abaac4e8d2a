"""The route enumeration test for this context's routes only (the full one lives in tests/test_routes.py)."""

from __future__ import annotations

import pytest

from carekit.scenarios.tests import routes  # noqa: F401  (registers the cases)
from carekit.testing.routes import CASES
from carekit.testing.tenants import api_caller, make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
MINE = sorted(k for k in CASES if k[1].startswith(("/scenario",)))


@pytest.mark.parametrize("key", MINE, ids=[f"{m} {p}" for m, p in MINE])
def test_scenario_route_keeps_workspaces_apart_and_checks_scope(key):
    case = CASES[key]
    own, other = make_workspace(), make_workspace()
    call = case.build(own, other)
    resp = api_caller(own, ["*"]).call(case.method, call.path, call.body)
    if call.kind == "foreign":
        assert resp.status_code == 404, resp.content[:300]
    elif call.kind == "list":
        assert resp.status_code == 200, resp.content[:300]
        ids = {item["id"] for item in resp.json()["items"]}
        assert call.own_ids <= ids
        assert not ids & call.foreign_ids
    else:
        assert resp.status_code < 400, resp.content[:300]
    denied = api_caller(own, ["accounts:read"]).call(case.method, call.path, call.body)
    assert denied.status_code == 403
