"""Variables and comparisons: what a condition can read (ADR 0901) and how it compares.

A condition is `{"var": "<name>", "op": "<op>", "value": ...}` or, to compare two variables,
`{"var": ..., "op": ..., "ref": "<name>"}`. Every evaluation returns the values it compared, so the
run trace can say why a branch was taken.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

OPS: dict[str, Callable[[Any, Any], bool]] = {}


def _op(name: str) -> Callable[[Callable[[Any, Any], bool]], Callable[[Any, Any], bool]]:
    def deco(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
        OPS[name] = fn
        return fn

    return deco


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _cmp(a: Any, b: Any, f: Callable[[float, float], bool]) -> bool:
    x, y = _num(a), _num(b)
    return x is not None and y is not None and f(x, y)


_op("eq")(lambda a, b: a == b or (_num(a) is not None and _num(a) == _num(b) and not isinstance(a, str)))
_op("ne")(lambda a, b: not OPS["eq"](a, b))
_op("gt")(lambda a, b: _cmp(a, b, lambda x, y: x > y))
_op("gte")(lambda a, b: _cmp(a, b, lambda x, y: x >= y))
_op("lt")(lambda a, b: _cmp(a, b, lambda x, y: x < y))
_op("lte")(lambda a, b: _cmp(a, b, lambda x, y: x <= y))
_op("in")(lambda a, b: isinstance(b, list | tuple) and a in b)
_op("not_in")(lambda a, b: isinstance(b, list | tuple) and a not in b)
_op("contains")(lambda a, b: isinstance(a, list | tuple | str) and b in a)
_op("not_contains")(lambda a, b: not (isinstance(a, list | tuple | str) and b in a))
_op("exists")(lambda a, b: a is not None and a != "")
_op("missing")(lambda a, b: a is None or a == "")
# [low, high): "between 9 and 18" is 09:00 up to, not including, 18:00
_op("between")(
    lambda a, b: (
        isinstance(b, list | tuple)
        and len(b) == 2
        and _cmp(a, b[0], lambda x, y: x >= y)
        and _cmp(a, b[1], lambda x, y: x < y)
    )
)
UNARY = frozenset({"exists", "missing"})

# Known facts of the event types scenarios use most (docs/contracts.md). Unknown types accept any key.
EVENT_FACTS: dict[str, frozenset[str]] = {
    "customers.order.status_changed": frozenset(
        {
            "order_id",
            "customer_id",
            "external_id",
            "from",
            "to",
            "currency",
            "total",
            "items",
            "placed_at",
            "paid_at",
        }
    ),
    "customers.order.returned": frozenset(
        {"order_id", "customer_id", "return_id", "reason", "items", "amount", "currency"}
    ),
    "customers.customer.created": frozenset({"customer_id", "source"}),
    "customers.customer.updated": frozenset({"customer_id", "fields"}),
    "customers.consent.changed": frozenset({"customer_id", "purpose", "channel", "granted", "source"}),
}
EVENT_META = frozenset({"type", "occurred_at", "subject_type", "subject_id"})
CUSTOMER_VARS = frozenset({"tags", "language", "preferred_channel", "time_zone", "display_name"})
TIME_VARS = frozenset({"hour", "minute", "weekday", "business_hours", "date"})
CONVERSATION_VARS = frozenset({"channel", "sentiment", "priority", "status", "language", "team"})
RUN_VARS = frozenset({"arm", "scenario_id", "id"})
BUSINESS_HOURS = (9, 18)  # Mon-Fri, local time
VAR_RE = re.compile(r"^[a-z_]+(\.[A-Za-z0-9_]+)+$")


def known_variable(
    name: str, *, trigger_type: str, awaited_types: Sequence[str], saved: set[str]
) -> str | None:
    """None if `name` can be read by a condition of this definition; else why not."""
    if not VAR_RE.match(name):
        return f"'{name}' is not a variable name"
    ns, _, rest = name.partition(".")
    key = rest.split(".", 1)[0]
    if ns == "event":
        facts = EVENT_FACTS.get(trigger_type)
        if key in EVENT_META or facts is None or key in facts:
            return None
        return f"the event {trigger_type} carries no '{key}' (it has {', '.join(sorted(facts))})"
    if ns == "last_event":
        if not awaited_types:
            return "'last_event' needs a wait for an event earlier in the scenario"
        known = [EVENT_FACTS.get(t) for t in awaited_types]
        if key in EVENT_META or any(k is None or key in k for k in known):
            return None
        return f"no awaited event carries '{key}'"
    if ns == "customer":
        if key in CUSTOMER_VARS or (key == "attributes" and "." in rest):
            return None
        return f"unknown customer variable '{key}'"
    if ns == "time":
        return None if key in TIME_VARS and "." not in rest else f"unknown time variable '{rest}'"
    if ns == "conversation":
        return None if key in CONVERSATION_VARS else f"unknown conversation variable '{key}'"
    if ns == "run":
        return None if key in RUN_VARS else f"unknown run variable '{key}'"
    if ns == "vars":
        return None if key in saved else f"no action saves a value as '{key}' (use save_as)"
    return f"unknown namespace '{ns}'"


@dataclass
class Scope:
    """What a condition reads. `customer` and `conversation` are loaded on first use only."""

    event: Mapping[str, Any]
    at: datetime
    load_tz: Callable[[], ZoneInfo]
    last_event: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    load_customer: Callable[[], Mapping[str, Any] | None] = lambda: None
    load_conversation: Callable[[], Mapping[str, Any] | None] = lambda: None
    _customer: Mapping[str, Any] | None = None
    _customer_loaded: bool = False
    _conversation: Mapping[str, Any] | None = None
    _conversation_loaded: bool = False

    def customer(self) -> Mapping[str, Any]:
        if not self._customer_loaded:
            self._customer, self._customer_loaded = self.load_customer(), True
        return self._customer or {}

    def conversation(self) -> Mapping[str, Any]:
        if not self._conversation_loaded:
            self._conversation, self._conversation_loaded = self.load_conversation(), True
        return self._conversation or {}

    _tz: ZoneInfo | None = None

    @property
    def tz(self) -> ZoneInfo:
        if self._tz is None:
            self._tz = self.load_tz()
        return self._tz

    def local(self) -> datetime:
        return self.at.astimezone(self.tz)

    def read(self, name: str) -> Any:
        ns, _, rest = name.partition(".")
        parts = rest.split(".")
        root: Any
        if ns == "event":
            root = self.event
        elif ns == "last_event":
            root = self.last_event
        elif ns == "vars":
            root = self.vars
        elif ns == "run":
            root = self.run
        elif ns == "customer":
            root = self.customer()
        elif ns == "conversation":
            root = self.conversation()
        elif ns == "time":
            return self._time(rest)
        else:
            return None
        for part in parts:
            if not isinstance(root, Mapping):
                return None
            root = root.get(part)
        return root

    def _time(self, key: str) -> Any:
        local = self.local()
        if key == "hour":
            return local.hour
        if key == "minute":
            return local.minute
        if key == "weekday":
            return local.weekday()  # Monday is 0
        if key == "date":
            return local.date().isoformat()
        if key == "business_hours":
            return local.weekday() < 5 and BUSINESS_HOURS[0] <= local.hour < BUSINESS_HOURS[1]
        return None


def evaluate(conditions: Sequence[Mapping[str, Any]], scope: Scope) -> tuple[bool, list[dict[str, Any]]]:
    """All conditions must hold. Returns the verdict and, for the trace, each comparison made."""
    compared: list[dict[str, Any]] = []
    for cond in conditions:
        actual = scope.read(cond["var"])
        expected = scope.read(cond["ref"]) if "ref" in cond else cond.get("value")
        ok = OPS[cond["op"]](actual, expected)
        compared.append(
            {
                "var": cond["var"],
                "op": cond["op"],
                "expected": _plain(expected),
                "actual": _plain(actual),
                "result": ok,
            }
        )
        if not ok:
            return False, compared
    return True, compared


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, datetime):
        return v.isoformat()
    return v


TEMPLATE_VAR_RE = re.compile(r"\{\{\s*([a-z_]+(?:\.[A-Za-z0-9_]+)+)\s*\}\}")


def template_variables(text: str) -> list[str]:
    return TEMPLATE_VAR_RE.findall(text)


def render(text: str, read: Callable[[str], Any]) -> str:
    """Fill `{{ var }}` placeholders; a missing value renders as an empty string."""

    def sub(m: re.Match[str]) -> str:
        v = read(m.group(1))
        return "" if v is None else str(v)

    return TEMPLATE_VAR_RE.sub(sub, text)
