"""Validation before publishing names the step and the problem; import/export round-trips."""

from __future__ import annotations

import copy

import pytest
from django.db import transaction

from carekit.scenarios import definition as defs
from carekit.scenarios import services
from carekit.scenarios.enums import VersionStatus
from carekit.scenarios.library import TEMPLATES
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import SYSTEM

BASE = {
    "schema": 1,
    "trigger": {"event": "customers.order.returned"},
    "start": "a",
    "steps": {
        "a": {"type": "action", "action": "customer.tag", "params": {"tag": "x"}, "next": "b"},
        "b": {
            "type": "condition",
            "cases": [
                {"name": "big", "when": [{"var": "event.amount", "op": "gt", "value": 1000}], "next": "end"}
            ],
            "else": "a",
        },
    },
}


def _problems(defn) -> list[tuple[str, str]]:
    return [(p.step, p.code) for p in defs.validate(defn)]


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_is_valid(key):
    assert defs.validate(TEMPLATES[key]["definition"]) == []


def test_cycle_without_a_wait_is_named():
    problems = defs.validate(BASE)
    assert [(p.step, p.code) for p in problems] == [("a", "cycle_without_wait")]
    assert "has no wait step" in problems[0].message


def test_a_wait_breaks_the_cycle():
    d = copy.deepcopy(BASE)
    d["steps"]["b"]["else"] = "pause"
    d["steps"]["pause"] = {"type": "wait", "duration": "1h", "next": "a"}
    assert defs.validate(d) == []


def test_dangling_branch_unknown_step_and_unreachable_step():
    d = copy.deepcopy(BASE)
    del d["steps"]["b"]["else"]
    d["steps"]["a"]["next"] = "nowhere"
    d["steps"]["lonely"] = {"type": "end"}
    assert _problems(d) == [("a", "unknown_step"), ("b", "dangling_branch")]
    d["steps"]["a"]["next"] = "b"
    d["steps"]["b"]["else"] = "end"
    assert _problems(d) == [("lonely", "unreachable")]


def test_unknown_variables_are_named_with_the_reason():
    d = copy.deepcopy(BASE)
    d["steps"]["b"]["else"] = "end"
    d["steps"]["b"]["cases"][0]["when"] = [
        {"var": "event.colour", "op": "eq", "value": "red"},
        {"var": "vars.bonus", "op": "eq", "value": "granted"},
        {"var": "last_event.order_id", "op": "exists"},
        {"var": "customer.attributes.segment", "op": "eq", "value": "vip"},
    ]
    d["steps"]["a"]["params"] = {"tag": "x"}
    problems = defs.validate(d)
    assert [(p.step, p.code) for p in problems] == [("b", "unknown_variable")] * 3
    assert "the event customers.order.returned carries no 'colour'" in problems[0].message
    assert "no action saves a value as 'bonus'" in problems[1].message
    assert "needs a wait for an event" in problems[2].message


def test_template_variables_in_messages_are_checked():
    d = copy.deepcopy(TEMPLATES["defective_item"]["definition"])
    d["steps"]["apology"]["params"]["template"] = "Hello {{ customer.shoe_size }}"
    assert _problems(d) == [("apology", "unknown_variable")]


def test_a_loop_that_never_ends_is_refused():
    d = {
        "schema": 1,
        "trigger": {"event": "customers.order.returned"},
        "start": "w",
        "steps": {
            "w": {"type": "wait", "duration": "1d", "next": "t"},
            "t": {"type": "action", "action": "customer.tag", "params": {"tag": "x"}, "next": "w"},
        },
    }
    assert _problems(d) == [("w", "never_ends"), ("t", "never_ends")]


def test_unknown_action_and_missing_params():
    d = copy.deepcopy(BASE)
    d["steps"]["b"]["else"] = "end"
    d["steps"]["a"] = {"type": "action", "action": "loyalty.grant", "params": {}, "next": "b"}
    assert _problems(d) == [("a", "action_params")]
    d["steps"]["a"]["action"] = "teleport"
    assert _problems(d) == [("a", "unknown_action")]


@pytest.mark.django_db
def test_an_invalid_graph_cannot_be_published_and_the_error_names_the_step(workspace):
    with transaction.atomic():
        s = services.scenario_create(actor=SYSTEM, workspace=workspace, name="Loop", definition=BASE)
        with pytest.raises(services.InvalidScenario) as err:
            services.version_publish(actor=SYSTEM, version=s.versions.get())
    assert err.value.details == {
        "problems": [
            {
                "step": "a",
                "code": "cycle_without_wait",
                "message": "a loop through 'b' back to 'a' has no wait step",
            }
        ]
    }
    assert s.versions.get().status == VersionStatus.DRAFT


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_import_round_trip(fmt, db, workspace):
    src = TEMPLATES["defective_item"]
    text = defs.export_document(
        name=src["name"], description=src["description"], definition=src["definition"], fmt=fmt
    )
    with transaction.atomic():
        s = services.scenario_import(actor=SYSTEM, workspace=workspace, text=text, fmt=fmt)
    assert s.name == src["name"]
    assert s.versions.get().definition == src["definition"]


def test_import_of_broken_documents_says_what_is_wrong(db, workspace):
    with transaction.atomic(), pytest.raises(services.InvalidScenario) as err:
        services.scenario_import(actor=SYSTEM, workspace=workspace, text="name: [unclosed", fmt="yaml")
    assert err.value.details["problems"][0]["code"] == "parse"
    with transaction.atomic(), pytest.raises(services.InvalidScenario) as err:
        services.scenario_import(actor=SYSTEM, workspace=workspace, text='{"name": "x"}', fmt="json")
    assert err.value.details["problems"][0]["code"] == "document"


def test_drafts_after_a_publish_get_a_new_number(db, workspace):
    s = factories.published(workspace, factories.template("defective_item"))
    with transaction.atomic():
        d2 = services.draft_save(actor=SYSTEM, scenario=s, definition=factories.template("late_delivery"))
        again = services.draft_save(actor=SYSTEM, scenario=s, definition=factories.template("late_delivery"))
    assert (d2.number, again.pk) == (2, d2.pk)
