"""Workspaces, users and API callers for tests."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.test import Client

from carekit.accounts import services
from carekit.accounts.enums import Role
from carekit.accounts.models import User
from carekit.core.events import Actor
from carekit.core.models import Workspace

_seq = itertools.count(1)
SYSTEM = Actor.system("test")


def make_user(*, email: str | None = None, password: str = "correct-horse-battery-9") -> User:
    n = next(_seq)
    with transaction.atomic():
        return services.user_create(actor=SYSTEM, email=email or f"user{n}@example.test", password=password)


def make_workspace(name: str | None = None, *, owner: User | None = None) -> Workspace:
    n = next(_seq)
    owner = owner or make_user()
    with transaction.atomic():
        return services.workspace_create(actor=SYSTEM, name=name or f"Workspace {n}", owner=owner, slug=f"ws-{n}")


def add_member(workspace: Workspace, role: str = Role.AGENT, user: User | None = None):
    with transaction.atomic():
        return services.member_add(actor=SYSTEM, workspace=workspace, user=user or make_user(), role=role)


@dataclass
class ApiCaller:
    """A test client that authenticates with a bearer token of chosen scopes."""

    workspace: Workspace
    secret: str
    client: Client

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"}

    def get(self, path: str, **params: Any):
        return self.client.get(_api(path), params, **self._headers())

    def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(_api(path), data, content_type="application/json", **self._headers())

    def patch(self, path: str, body: Any = None):
        return self.client.patch(_api(path), json.dumps(body or {}), content_type="application/json", **self._headers())

    def put(self, path: str, body: Any = None):
        return self.client.put(_api(path), json.dumps(body or {}), content_type="application/json", **self._headers())

    def delete(self, path: str):
        return self.client.delete(_api(path), **self._headers())

    def call(self, method: str, path: str, body: Any = None):
        if method == "GET":
            return self.get(path)
        if method == "DELETE":
            return self.delete(path)
        return getattr(self, method.lower())(path, body)


def _api(path: str) -> str:
    return path if path.startswith("/api/") else f"/api/v1/{path.lstrip('/')}"


def api_caller(workspace: Workspace, scopes: list[str] | None = None) -> ApiCaller:
    with transaction.atomic():
        issued = services.api_token_create(
            actor=SYSTEM,
            workspace=workspace,
            name="test",
            scopes=scopes or ["*"],
            held_scopes=frozenset({"*"}),
            created_by=None,
        )
    return ApiCaller(workspace, issued.secret, Client())
