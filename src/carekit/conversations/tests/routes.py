"""Route cases for the inbox API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.accounts import services as account_services
from carekit.conversations import apichannel, replies, routing, worktasks
from carekit.conversations.models import BusinessCalendar, SlaPolicy
from carekit.conversations.tests.factories import conversation
from carekit.core.models import Workspace
from carekit.testing.routes import RouteCall, route_case
from carekit.testing.tenants import SYSTEM, add_member

HOOK = "http://127.0.0.1:9/hook"
HOURS = {"0": [["09:00", "18:00"]]}


def _channel(ws: Workspace):
    with transaction.atomic():
        return apichannel.api_channel_create(actor=SYSTEM, workspace=ws, name="Shop", webhook_url=HOOK)


def _task(ws: Workspace):
    with transaction.atomic():
        return worktasks.task_create(actor=SYSTEM, workspace=ws, title="Call back")


def _canned(ws: Workspace):
    with transaction.atomic():
        return replies.canned_response_create(
            actor=SYSTEM, workspace=ws, shortcut=f"hi{ws.pk}", title="Hi", body="Hi {customer.first_name}"
        )


def _calendar(ws: Workspace):
    return BusinessCalendar.objects.create(workspace=ws, name="Office", hours=HOURS)


def _policy(ws: Workspace):
    return SlaPolicy.objects.create(workspace=ws, name="Chat", first_response_minutes=5)


def _rule(ws: Workspace):
    with transaction.atomic():
        return routing.rule_create(actor=SYSTEM, workspace=ws, name="all")


def _team(ws: Workspace):
    with transaction.atomic():
        return account_services.team_create(actor=SYSTEM, workspace=ws, name=f"Team {ws.pk}")


@route_case("POST", "/inbox/api-channels", scope="inbox:admin")
def _channel_create(own, other) -> RouteCall:
    return RouteCall("/inbox/api-channels", {"name": "Shop", "webhook_url": HOOK}, kind="plain")


@route_case("POST", "/inbox/api-channels/{channel_id}/messages", scope="inbox:channel")
def _inbound(own, other) -> RouteCall:
    body = {"thread_id": "t1", "message_id": "m1", "customer_ref": "42", "text": "Hello"}
    return RouteCall(f"/inbox/api-channels/{_channel(other).public_id}/messages", body)


@route_case("POST", "/inbox/api-channels/{channel_id}/messages/{message_id}/delivered", scope="inbox:channel")
def _delivered(own, other) -> RouteCall:
    return RouteCall(f"/inbox/api-channels/{_channel(other).public_id}/messages/msg_x/delivered")


@route_case("GET", "/inbox/conversations", scope="inbox:read")
def _conversations(own, other) -> RouteCall:
    mine, theirs = conversation(own), conversation(other)
    return RouteCall(
        "/inbox/conversations", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id}
    )


@route_case("GET", "/inbox/conversations/{conversation_id}", scope="inbox:read")
def _conversation(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(other).public_id}")


@route_case("GET", "/inbox/conversations/{conversation_id}/messages", scope="inbox:read")
def _messages(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(other).public_id}/messages")


@route_case("POST", "/inbox/conversations/{conversation_id}/messages", scope="inbox:write")
def _send(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(other).public_id}/messages", {"text": "Hi"})


@route_case("POST", "/inbox/conversations/{conversation_id}/notes", scope="inbox:write")
def _note(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(other).public_id}/notes", {"text": "note"})


@route_case("POST", "/inbox/conversations/{conversation_id}/actions", scope="inbox:write")
def _action(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(other).public_id}/actions", {"action": "resolve"})


@route_case("POST", "/inbox/conversations/{conversation_id}/merge", scope="inbox:write")
def _merge(own, other) -> RouteCall:
    src = conversation(own)
    return RouteCall(
        f"/inbox/conversations/{src.public_id}/merge", {"target_id": conversation(other).public_id}
    )


@route_case("POST", "/inbox/bulk", scope="inbox:write")
def _bulk(own, other) -> RouteCall:
    return RouteCall(
        "/inbox/bulk",
        {"conversation_ids": [conversation(other).public_id], "action": "resolve"},
    )


@route_case("GET", "/inbox/tasks", scope="inbox:read")
def _tasks(own, other) -> RouteCall:
    mine, theirs = _task(own), _task(other)
    return RouteCall("/inbox/tasks", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/inbox/tasks", scope="inbox:write")
def _task_create(own, other) -> RouteCall:
    return RouteCall("/inbox/tasks", {"title": "Call", "conversation_id": conversation(other).public_id})


@route_case("POST", "/inbox/tasks/{task_id}/complete", scope="inbox:write")
def _task_complete(own, other) -> RouteCall:
    return RouteCall(f"/inbox/tasks/{_task(other).public_id}/complete")


@route_case("GET", "/inbox/canned-responses", scope="inbox:read")
def _canned_list(own, other) -> RouteCall:
    mine, theirs = _canned(own), _canned(other)
    return RouteCall(
        "/inbox/canned-responses", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id}
    )


@route_case("POST", "/inbox/canned-responses", scope="inbox:admin")
def _canned_create(own, other) -> RouteCall:
    return RouteCall("/inbox/canned-responses", {"shortcut": "hello", "body": "Hello!"}, kind="plain")


@route_case("GET", "/inbox/conversations/{conversation_id}/canned/{canned_id}", scope="inbox:read")
def _canned_render(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(own).public_id}/canned/{_canned(other).public_id}")


@route_case("GET", "/inbox/routing-rules", scope="inbox:read")
def _rules(own, other) -> RouteCall:
    mine, theirs = _rule(own), _rule(other)
    return RouteCall(
        "/inbox/routing-rules", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id}
    )


@route_case("POST", "/inbox/routing-rules", scope="inbox:admin")
def _rule_create(own, other) -> RouteCall:
    return RouteCall("/inbox/routing-rules", {"name": "vip", "team_id": _team(other).public_id})


@route_case("GET", "/inbox/calendars", scope="inbox:read")
def _calendars(own, other) -> RouteCall:
    mine, theirs = _calendar(own), _calendar(other)
    return RouteCall(
        "/inbox/calendars", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id}
    )


@route_case("POST", "/inbox/calendars", scope="inbox:admin")
def _calendar_create(own, other) -> RouteCall:
    return RouteCall(
        "/inbox/calendars", {"name": "Office", "time_zone": "Europe/Moscow", "hours": HOURS}, kind="plain"
    )


@route_case("GET", "/inbox/sla-policies", scope="inbox:read")
def _policies(own, other) -> RouteCall:
    mine, theirs = _policy(own), _policy(other)
    return RouteCall(
        "/inbox/sla-policies", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id}
    )


@route_case("POST", "/inbox/sla-policies", scope="inbox:admin")
def _policy_create(own, other) -> RouteCall:
    body = {"name": "Chat", "first_response_minutes": 5, "calendar_id": _calendar(other).public_id}
    return RouteCall("/inbox/sla-policies", body)


@route_case("PUT", "/inbox/presence", scope="inbox:write")
def _presence(own, other) -> RouteCall:
    return RouteCall("/inbox/presence", {"presence": "online", "member_id": add_member(other).public_id})


@route_case("GET", "/inbox/report", scope="inbox:read")
def _report(own, other) -> RouteCall:
    return RouteCall("/inbox/report", kind="plain")


@route_case("GET", "/inbox/search", scope="inbox:read")
def _search(own, other) -> RouteCall:
    from carekit.conversations.tests.factories import inbound

    mine = inbound(own, text="parcel lost").message
    theirs = inbound(other, text="parcel lost").message
    return RouteCall(
        "/inbox/search?q=parcel", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id}
    )


def _macro(ws: Workspace):
    with transaction.atomic():
        return replies.macro_create(actor=SYSTEM, workspace=ws, name="Close", actions=[{"type": "resolve"}])


@route_case("GET", "/inbox/macros", scope="inbox:read")
def _macros(own, other) -> RouteCall:
    mine, theirs = _macro(own), _macro(other)
    return RouteCall("/inbox/macros", kind="list", own_ids={mine.public_id}, foreign_ids={theirs.public_id})


@route_case("POST", "/inbox/macros", scope="inbox:admin")
def _macro_create(own, other) -> RouteCall:
    body = {"name": "Thanks", "actions": [{"type": "reply", "canned_id": _canned(other).public_id}]}
    return RouteCall("/inbox/macros", body)


@route_case("POST", "/inbox/conversations/{conversation_id}/macros/{macro_id}", scope="inbox:write")
def _macro_apply(own, other) -> RouteCall:
    return RouteCall(f"/inbox/conversations/{conversation(own).public_id}/macros/{_macro(other).public_id}")
