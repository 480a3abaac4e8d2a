"""The action registry: what a step can do, live and in a dry-run.

Each action has a `perform` (live: runs inside the run's transaction, idempotent by `call.key`) and a
`simulate` (dry-run: no side effects, same decisions). Conversation actions go through the inbox port
(scenarios/ports.py), so they work the day the inbox registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from carekit.core.events import Actor
from carekit.core.outbound import MessageClass
from carekit.scenarios import messaging
from carekit.scenarios.ports import InboxRequest, inbox

ACTOR = Actor.system("scenarios")


@dataclass(frozen=True)
class ActionCall:
    workspace_id: int
    scenario_id: str
    run_id: str
    run_pk: int | None  # None in a dry-run
    customer_id: str
    step: str
    key: str  # scn:<run>:<seq>, or per customer when the step says once: customer
    params: Mapping[str, Any]
    at: datetime  # the run's logical time
    load_tz: Callable[[], ZoneInfo]  # the customer's zone, else the workspace's (read only when needed)

    @property
    def tz(self) -> ZoneInfo:
        return self.load_tz()


@dataclass(frozen=True)
class ActionOutcome:
    outcome: str  # done | duplicate | refused | held | blocked | capped | skipped | would_fire
    detail: dict[str, Any] = field(default_factory=dict)
    value: Any = None  # saved as vars.<save_as>


class Effects(Protocol):
    """Where actions land: the database (live) or a recording (dry-run)."""

    dry: bool

    def need_run_row(self) -> None:
        """Make sure the run exists as a row (live): actions that create rows pointing at it call this."""
        ...

    def guard(self) -> AbstractContextManager[Any]:
        """Around each action: a savepoint (live), so a refused action leaves no partial writes."""
        ...

    def messages_in_window(self, call: ActionCall, message_class: str) -> int: ...

    def record_message(self, call: ActionCall, decision: messaging.Decision, channel: str) -> str: ...

    def customer_tag(self, call: ActionCall, tag: str) -> bool: ...

    def customer_attribute(self, call: ActionCall, key: str, value: Any) -> bool: ...


@dataclass(frozen=True)
class ActionSpec:
    name: str
    required: tuple[str, ...]
    run: Callable[[ActionCall, Effects], ActionOutcome]
    description: str
    # Actions that may be refused after writing (loyalty, profiles, the inbox) run in a savepoint;
    # one that only emits an event skips its two extra round trips.
    savepoint: bool = True


ACTIONS: dict[str, ActionSpec] = {}


def register_action(spec: ActionSpec) -> None:
    if spec.name in ACTIONS and ACTIONS[spec.name] is not spec:
        raise ValueError(f"action {spec.name!r} registered twice")
    ACTIONS[spec.name] = spec


def action(name: str, *, required: tuple[str, ...] = (), description: str = "", savepoint: bool = True):
    def deco(
        fn: Callable[[ActionCall, Effects], ActionOutcome],
    ) -> Callable[[ActionCall, Effects], ActionOutcome]:
        register_action(ActionSpec(name, required, fn, description, savepoint))
        return fn

    return deco


# --- messages ---------------------------------------------------------------------------------------


def message_channel(call: ActionCall) -> str:
    from carekit.customers import public as customers

    wanted = str(call.params.get("channel") or "preferred")
    if wanted in ("preferred", "conversation"):
        facts = (
            inbox().conversation_facts(call.workspace_id, call.customer_id, call.at)
            if wanted == "conversation"
            else None
        )
        if facts and facts.get("channel"):
            return str(facts["channel"])
        ref = customers.customer(call.workspace_id, call.customer_id)
        return (ref.preferred_channel if ref else "") or "email"
    return wanted


@action(
    "message.send",
    required=("template", "class"),
    description="Send a template through the customer's preferred (or a named) channel",
)
def _message_send(call: ActionCall, fx: Effects) -> ActionOutcome:
    from carekit.customers import public as customers

    message_class = MessageClass(call.params["class"])
    channel = message_channel(call)
    consent = customers.consent_allows(call.workspace_id, call.customer_id, message_class, channel)
    decision = messaging.decide(
        message_class=message_class,
        consent=consent,
        sent_in_window=fx.messages_in_window(call, message_class),
        at=call.at,
        tz=call.tz,
    )
    detail: dict[str, Any] = {"channel": channel, "class": str(message_class), "reason": decision.reason}
    if decision.outcome in ("blocked", "capped"):
        return ActionOutcome(decision.outcome, detail)
    detail["message_id"] = fx.record_message(call, decision, channel)
    if decision.due_at is not None:
        detail["due_at"] = decision.due_at.isoformat()
    return ActionOutcome("held" if decision.outcome == "held" else "done", detail)


# --- loyalty ----------------------------------------------------------------------------------------


@action(
    "loyalty.grant",
    required=("reason",),
    description="Grant points and/or a coupon through loyalty's compensation (caps hold across issuers)",
)
def _loyalty_grant(call: ActionCall, fx: Effects) -> ActionOutcome:
    points = int(call.params.get("points") or 0)
    coupon = call.params.get("coupon_template") or None
    detail = {"points": points, "coupon_template": coupon, "key": call.key}
    if fx.dry:
        return ActionOutcome("would_fire", detail)
    from carekit.loyalty import public as loyalty

    result = loyalty.compensation_grant(
        workspace_id=call.workspace_id,
        customer_id=call.customer_id,
        reason=str(call.params["reason"]),
        idempotency_key=call.key,
        issuer="scenarios",
        actor=ACTOR,
        points=points,
        coupon_template=coupon,
    )
    detail.update(compensation_id=result.compensation_id, refusal=result.refusal)
    outcome = {"granted": "done", "duplicate": "duplicate", "refused": "refused"}[result.status]
    return ActionOutcome(outcome, detail, value=result.status)


# --- the customer's profile -------------------------------------------------------------------------


@action("customer.tag", required=("tag",), description="Add a tag to the customer")
def _customer_tag(call: ActionCall, fx: Effects) -> ActionOutcome:
    tag = str(call.params["tag"])
    ok = fx.customer_tag(call, tag)
    return ActionOutcome(
        "done" if ok else "skipped", {"tag": tag, **({} if ok else {"reason": "no profile"})}
    )


@action("customer.set_attribute", required=("key", "value"), description="Set a custom attribute")
def _customer_attribute(call: ActionCall, fx: Effects) -> ActionOutcome:
    key, value = str(call.params["key"]), call.params["value"]
    ok = fx.customer_attribute(call, key, value)
    return ActionOutcome("done" if ok else "skipped", {"key": key, "value": value})


# --- webhooks ---------------------------------------------------------------------------------------


@action(
    "webhook",
    required=("topic",),
    description="Emit scenarios.webhook.fired; core webhooks deliver it signed to subscribers",
    savepoint=False,
)
def _webhook(call: ActionCall, fx: Effects) -> ActionOutcome:
    detail = {"topic": str(call.params["topic"])}
    if fx.dry:
        return ActionOutcome("would_fire", detail)
    from carekit.core.events import emit

    emit(
        workspace_id=call.workspace_id,
        type="scenarios.webhook.fired",
        subject_type="scenario_run",
        subject_id=call.run_id,
        actor=ACTOR,
        payload={
            "topic": detail["topic"],
            "scenario_id": call.scenario_id,
            "run_id": call.run_id,
            "customer_id": call.customer_id,
            "step": call.step,
            "key": call.key,
        },
    )
    return ActionOutcome("done", detail)


# --- the inbox port ---------------------------------------------------------------------------------

INBOX_ACTIONS = {
    "conversation.create": ("subject",),
    "conversation.assign": ("team",),
    "conversation.tag": ("tag",),
    "conversation.prioritize": ("priority",),
    "note.add": ("text",),
    "script.suggest": ("steps",),
    "team.notify": ("team", "title"),
    "task.create": ("title",),
}


def _inbox_action(name: str) -> Callable[[ActionCall, Effects], ActionOutcome]:
    def run(call: ActionCall, fx: Effects) -> ActionOutcome:
        if fx.dry:
            return ActionOutcome("would_fire", {"action": name})
        fx.need_run_row()
        result = inbox().perform(
            InboxRequest(
                call.workspace_id, call.run_id, call.customer_id, call.key, name, dict(call.params), call.at
            )
        )
        return ActionOutcome(result.outcome, {"ref": result.ref, "reason": result.reason}, value=result.ref)

    return run


for _name, _required in INBOX_ACTIONS.items():
    register_action(ActionSpec(_name, _required, _inbox_action(_name), f"Inbox: {_name}"))
