"""The inbox side of scenarios: `InboxForScenarios` implements `scenarios.public.InboxPort` and is
registered at start-up (apps.py), so scenarios act on conversations without importing the inbox.

Every request carries the run step's idempotency key; the effect is recorded as an `AutomationEffect`
in the same transaction, so a retried step answers "duplicate" and acts once. A step acts on the
conversation this run created, else on the customer's latest active conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from carekit.accounts import public as accounts
from carekit.conversations import lifecycle, notify, routing, scripts, services, worktasks
from carekit.conversations.enums import ACTIVE_STATUSES, ActivityKind, AuthorKind, Direction, Priority
from carekit.conversations.models import AutomationEffect, Conversation, Message
from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.scenarios import public as scenarios

ACTOR = Actor.system("scenarios")
TEAM_NOTICE = "conversations.team_notice"


def _team(workspace_id: int, wanted: str) -> accounts.TeamRef | None:
    """A team by id, or by name (case-insensitive): scenario templates name teams."""
    wanted = wanted.strip()
    rows = accounts.teams(workspace_id)
    return next((t for t in rows if t.team_id == wanted), None) or next(
        (t for t in rows if t.name.lower() == wanted.lower()), None
    )


def _agent(workspace_id: int, wanted: str) -> accounts.AgentRef | None:
    wanted = wanted.strip().lower()
    return next(
        (a for a in accounts.agents(workspace_id) if wanted in (a.member_id.lower(), a.email.lower())), None
    )


def _target(request: scenarios.InboxRequest) -> Conversation | None:
    created = (
        AutomationEffect.objects.filter(
            workspace_id=request.workspace_id, run_id=request.run_id, action="conversation.create"
        )
        .values_list("ref", flat=True)
        .first()
    )
    qs = Conversation.objects.filter(workspace_id=request.workspace_id, customer_id=request.customer_id)
    if created:
        return qs.filter(public_id=created).first()
    return qs.filter(status__in=ACTIVE_STATUSES).order_by("-last_message_at", "-pk").first()


def conversation_open(
    *,
    actor: Actor,
    workspace: Workspace,
    customer_id: str,
    channel: str,
    subject: str = "",
    thread_key: str,
    priority: str = "",
    at: datetime | None = None,
) -> Conversation:
    """A conversation started by us (no customer message yet): routed, nobody waiting, so no SLA clock."""
    at = at or timezone.now()
    conv = Conversation.objects.create(
        workspace=workspace,
        customer_id=customer_id,
        channel=channel,
        thread_key=thread_key[:200],
        subject=subject[:300],
        priority=Priority(priority) if priority else Priority.NORMAL,
        created_at=at,
        last_message_at=at,
    )
    services._activity(conv, ActivityKind.CREATED, actor, at, channel=channel, origin="scenario")
    services._event(conv, "created", actor, at, customer_id=customer_id, channel=channel, origin="scenario")
    routing.route_new(actor=actor, conversation=conv, text=subject, at=at)
    return conv


class InboxForScenarios:
    def perform(self, request: scenarios.InboxRequest) -> scenarios.InboxResult:
        done = AutomationEffect.objects.filter(
            workspace_id=request.workspace_id, idempotency_key=request.idempotency_key
        ).first()
        if done is not None:
            return scenarios.InboxResult("duplicate", ref=done.ref)
        # A DomainError propagates: the scenario engine rolls back the step's savepoint and fails the run.
        outcome, ref, reason = self._act(request)
        if outcome != "done":
            return scenarios.InboxResult(outcome, ref=ref, reason=reason)
        AutomationEffect.objects.create(
            workspace_id=request.workspace_id,
            idempotency_key=request.idempotency_key,
            run_id=request.run_id,
            action=request.action,
            ref=ref,
            created_at=request.at,
        )
        return scenarios.InboxResult("done", ref=ref)

    def _act(self, request: scenarios.InboxRequest) -> tuple[str, str, str]:
        p: Mapping[str, Any] = request.params
        ws = Workspace.objects.get(pk=request.workspace_id)
        if request.action == "task.create":
            conv = _target(request)
            due = _due(request)
            assignee = _agent(ws.pk, str(p.get("agent") or ""))
            task = worktasks.task_create(
                actor=ACTOR,
                workspace=ws,
                title=str(p["title"]),
                kind=str(p.get("kind") or "todo"),
                conversation=conv,
                customer_id=request.customer_id,
                assignee_id=assignee.member_id if assignee else "",
                due_at=due,
                source="scenarios",
            )
            return "done", task.public_id, ""
        if request.action == "team.notify":
            team = _team(ws.pk, str(p["team"]))
            if team is None:
                return "skipped", "", "unknown team"
            conv = _target(request)
            users = [a.user_id for a in accounts.agents(ws.pk) if a.member_id in team.member_ids]
            notify.notify(
                actor=ACTOR,
                workspace_id=ws.pk,
                user_ids=users,
                kind=TEAM_NOTICE,
                subject_type="conversation" if conv else "customer",
                subject_id=conv.public_id if conv else request.customer_id,
                params={"title": str(p["title"])[:200]},
            )
            return "done", team.team_id, ""
        if request.action == "conversation.create":
            conv = conversation_open(
                actor=ACTOR,
                workspace=ws,
                customer_id=request.customer_id,
                channel=str(p.get("channel") or "email"),
                subject=str(p.get("subject") or ""),
                thread_key=f"scenario:{request.run_id}:{request.idempotency_key}",
                priority=str(p.get("priority") or ""),
                at=request.at,
            )
            if p.get("note"):
                services.note_add(actor=ACTOR, conversation=conv, author_id="", text=str(p["note"]))
            return "done", conv.public_id, ""
        conv = _target(request)
        if conv is None:
            return "skipped", "", "no open conversation"
        if request.action == "conversation.assign":
            agent = _agent(ws.pk, str(p.get("agent") or ""))
            team = _team(ws.pk, str(p.get("team") or "")) if p.get("team") else None
            if p.get("team") and team is None:
                return "skipped", conv.public_id, "unknown team"
            if team is not None and team.team_id != conv.team_id:
                lifecycle.conversation_transfer(
                    actor=ACTOR,
                    conversation=conv,
                    team_id=team.team_id,
                    assignee_id=agent.member_id if agent else "",
                    at=request.at,
                )
            elif agent is not None:
                lifecycle.conversation_assign(
                    actor=ACTOR, conversation=conv, assignee_id=agent.member_id, at=request.at
                )
            return "done", conv.public_id, ""
        if request.action == "conversation.tag":
            lifecycle.conversation_tag(actor=ACTOR, conversation=conv, add=[str(p["tag"])])
        elif request.action == "conversation.prioritize":
            lifecycle.conversation_set_priority(
                actor=ACTOR, conversation=conv, priority=str(p["priority"]), at=request.at
            )
        elif request.action == "note.add":
            note = services.note_add(actor=ACTOR, conversation=conv, author_id="", text=str(p["text"]))
            return "done", note.public_id, ""
        elif request.action == "script.suggest":
            script = scripts.script_create(
                actor=ACTOR,
                conversation=conv,
                steps=p["steps"],
                limits=p.get("max_compensation_by_role") or {},
                title=str(p.get("title") or ""),
                source=f"scenario run {request.run_id}",
                at=request.at,
            )
            return "done", script.public_id, ""
        else:
            return "skipped", "", f"unknown action {request.action}"
        return "done", conv.public_id, ""

    def conversation_facts(
        self, workspace_id: int, customer_id: str, at: datetime | None = None
    ) -> Mapping[str, Any] | None:
        """The customer's latest conversation begun by `at` (the run's logical time). `sentiment` is the
        bot's score (-1 … 1) of the customer's last message at or before `at`, so a live run and a
        dry-run over the same history read the same value; channel, status, priority, language and team
        are the conversation's state at evaluation (ADR 0901)."""
        convs = Conversation.objects.filter(workspace_id=workspace_id, customer_id=customer_id)
        msgs = Message.objects.filter(
            workspace_id=workspace_id,
            conversation__customer_id=customer_id,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
        )
        if at is not None:
            convs = convs.filter(created_at__lte=at)
            msgs = msgs.filter(created_at__lte=at)
        conv = convs.order_by("-created_at", "-pk").first()
        if conv is None:
            return None
        last = msgs.order_by("-created_at", "-pk").values_list("text", flat=True).first()
        return {
            "channel": conv.channel,
            "status": conv.status,
            "priority": conv.priority,
            "language": conv.language,
            "team": conv.team_id,
            "sentiment": sentiment_of(workspace_id, last) if last else None,
        }


def sentiment_of(workspace_id: int, text: str) -> float:
    from carekit.bot import public as bot

    return bot.understand(workspace_id, text).sentiment_score


def _due(request: scenarios.InboxRequest) -> datetime | None:
    raw = request.params.get("due_in")
    return request.at + scenarios.parse_duration(raw) if raw else None


def register() -> None:
    scenarios.register_inbox_port(InboxForScenarios())
