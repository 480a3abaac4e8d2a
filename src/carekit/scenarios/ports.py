"""The interface conversation actions call. The inbox context implements `InboxPort` and registers it
through `scenarios.public.register_inbox_port`; until then `LocalInbox` keeps tasks and team
notifications in this context and reports conversation actions as skipped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class InboxRequest:
    workspace_id: int
    run_id: str
    customer_id: str
    idempotency_key: str  # one effect per (run, step); the port must honour it
    action: (
        str  # conversation.create|assign|tag|prioritize, note.add, script.suggest, team.notify, task.create
    )
    params: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class InboxResult:
    outcome: str  # done | duplicate | skipped
    ref: str = ""  # the id of what was created or changed
    reason: str = ""


class InboxPort(Protocol):
    def perform(self, request: InboxRequest) -> InboxResult: ...

    def conversation_facts(
        self, workspace_id: int, customer_id: str, at: datetime | None = None
    ) -> Mapping[str, Any] | None:
        """channel, sentiment (of the customer's last message at or before `at`, the run's logical
        time), priority, status, language, team."""
        ...


class LocalInbox:
    """What exists before the inbox: tasks and notifications as rows here; no conversations."""

    def perform(self, request: InboxRequest) -> InboxResult:
        from carekit.scenarios import services

        if request.action not in ("task.create", "team.notify"):
            return InboxResult("skipped", reason="no inbox installed")
        task, new = services.task_record(request=request)
        return InboxResult("done" if new else "duplicate", ref=task.public_id)

    def conversation_facts(
        self, workspace_id: int, customer_id: str, at: datetime | None = None
    ) -> Mapping[str, Any] | None:
        return None


_PORT: list[InboxPort] = [LocalInbox()]


def register_inbox_port(port: InboxPort) -> None:
    _PORT[0] = port


def inbox() -> InboxPort:
    return _PORT[0]
