"""Every loyalty route has a case; each case holds for tenancy and scope (the suite-wide enumeration
test in tests/test_routes.py runs the same cases; this keeps loyalty's honest on its own branch)."""

from __future__ import annotations

import re

import pytest

from carekit.loyalty.tests import routes  # noqa: F401  (registers the cases)
from carekit.testing.routes import CASES
from carekit.testing.tenants import api_caller, make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _loyalty_routes() -> set[tuple[str, str]]:
    from config.api import api

    found = set()
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        if "/loyalty/" not in path:
            continue
        for method in methods:
            found.add((method.upper(), re.sub(r"^/api/v1", "", path)))
    return found


def test_every_loyalty_route_has_a_case():
    cases = {k for k in CASES if k[1].startswith("/loyalty/")}
    assert _loyalty_routes() == cases


@pytest.mark.parametrize("key", sorted(k for k in CASES if k[1].startswith("/loyalty/")), ids=" ".join)
def test_route_case(key):
    case = CASES[key]
    own, other = make_workspace(), make_workspace()
    call = case.build(own, other)
    resp = api_caller(own, [case.scope]).call(case.method, call.path, call.body)
    if call.kind == "foreign":
        assert resp.status_code == 404, resp.content
    elif call.kind == "list":
        assert resp.status_code == 200, resp.content
        ids = {item["id"] for item in resp.json()[call.items_key]}
        assert call.own_ids <= ids
        assert not (call.foreign_ids & ids)
    else:
        assert resp.status_code < 300, resp.content
    denied = api_caller(own, ["accounts:read"]).call(case.method, call.path, call.body)
    assert denied.status_code == 403
