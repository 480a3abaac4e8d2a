"""Experiments: deterministic assignment, a holdout that gets nothing, results per arm, and the
estimator's calibration over 2,000 simulations per case (seeds written here)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from carekit.core.ids import new_public_id
from carekit.scenarios import experiments, runtime, services
from carekit.scenarios.enums import RunStatus
from carekit.scenarios.models import Run, ScenarioMessage
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import SYSTEM, emit_at
from carekit.testing.outbound import recording

SIMULATIONS = 2000


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


@pytest.mark.parametrize(
    ("seed", "n", "p_control", "uplift"),
    [
        (901, 800, 0.10, 0.03),
        (902, 500, 0.30, -0.05),
    ],
)
def test_proportion_intervals_cover_the_true_uplift_95_percent(seed, n, p_control, uplift):
    rng = random.Random(seed)
    covered = 0
    for _ in range(SIMULATIONS):
        x_c, x_t = _binomial(rng, n, p_control), _binomial(rng, n, p_control + uplift)
        cmp = experiments.compare_proportions(n, x_c, n, x_t)
        covered += cmp.ci_low <= uplift <= cmp.ci_high
    assert 0.935 <= covered / SIMULATIONS <= 0.965


@pytest.mark.parametrize(("seed", "n", "p"), [(903, 800, 0.10), (904, 400, 0.5)])
def test_without_uplift_the_false_positive_rate_stays_at_most_6_5_percent(seed, n, p):
    rng = random.Random(seed)
    positives = sum(
        experiments.compare_proportions(n, _binomial(rng, n, p), n, _binomial(rng, n, p)).significant
        for _ in range(SIMULATIONS)
    )
    assert positives / SIMULATIONS <= 0.065


def test_numeric_metric_intervals_cover_and_stay_quiet_without_uplift():
    rng = random.Random(905)
    covered = positives = 0
    for _ in range(SIMULATIONS):
        control = [rng.expovariate(1 / 1000) for _ in range(300)]
        treated = [rng.expovariate(1 / 1000) + 100 for _ in range(300)]
        null = [rng.expovariate(1 / 1000) for _ in range(300)]
        cmp = experiments.compare_means(control, treated)
        covered += cmp.ci_low <= 100 <= cmp.ci_high
        positives += experiments.compare_means(control, null).significant
    assert 0.935 <= covered / SIMULATIONS <= 0.965
    assert positives / SIMULATIONS <= 0.065


def test_assignment_is_deterministic_and_follows_the_weights():
    arms = ({"name": "control", "weight": 20, "holdout": True}, {"name": "treated", "weight": 80})
    first = [runtime.assign_arm(f"cus_{i}", "exp_a", arms)["name"] for i in range(4000)]
    again = [runtime.assign_arm(f"cus_{i}", "exp_a", arms)["name"] for i in range(4000)]
    other = [runtime.assign_arm(f"cus_{i}", "exp_b", arms)["name"] for i in range(4000)]
    assert first == again
    assert first != other  # the experiment id is part of the hash
    assert 0.18 <= first.count("control") / 4000 <= 0.22


T0 = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)
OFFER = {
    "schema": 1,
    "trigger": {
        "event": "customers.order.status_changed",
        "when": [{"var": "event.to", "op": "eq", "value": "delivered"}],
    },
    "reentry": "once",
    "start": "tag",
    "steps": {
        "tag": {"type": "action", "action": "customer.tag", "params": {"tag": "offered"}, "next": "end"}
    },
}


@pytest.mark.django_db
@pytest.mark.sqlite
def test_holdout_gets_nothing_and_results_compare_arms(workspace, django_capture_on_commit_callbacks):
    scenario = factories.published(workspace, OFFER)
    with transaction.atomic():
        exp = services.experiment_start(
            actor=SYSTEM,
            scenario=scenario,
            horizon_at=T0 + timedelta(days=7),
            min_sample_per_arm=1,
            arms=[{"name": "control", "weight": 50, "holdout": True}, {"name": "treated", "weight": 50}],
            goal={
                "event": "customers.order.status_changed",
                "window_hours": 72,
                "when": [{"var": "last_event.to", "op": "eq", "value": "paid"}],
            },
        )
    # The experiment id is random, so arm sizes vary; with 40 customers an empty arm has odds ~1e-12.
    customers = [f"cus_exp{i:02d}" for i in range(40)]
    with recording("email"):
        for cid in customers:
            emit_at(
                workspace,
                django_capture_on_commit_callbacks,
                "customers.order.status_changed",
                {"order_id": new_public_id("ord"), "customer_id": cid, "to": "delivered"},
                T0,
            )
        treated = [
            c for c in customers if runtime.assign_arm(c, exp.public_id, tuple(exp.arms))["name"] == "treated"
        ]
        for cid in treated[:2] + [c for c in customers if c not in treated][:1]:
            emit_at(
                workspace,
                django_capture_on_commit_callbacks,
                "customers.order.status_changed",
                {"order_id": new_public_id("ord"), "customer_id": cid, "to": "paid"},
                T0 + timedelta(hours=5),
            )
    runs = {r.customer_id: r for r in Run.objects.filter(scenario=scenario)}
    assert set(runs) == set(customers)
    for cid, run in runs.items():
        if cid in treated:
            assert (run.arm, run.status) == ("treated", RunStatus.COMPLETED)
        else:
            assert (run.arm, run.status) == ("control", RunStatus.HELD_OUT)
            assert [t.kind for t in run.trace.all()] == ["holdout"]
    assert not ScenarioMessage.objects.exists()
    early = experiments.results(exp, now=T0 + timedelta(days=1))
    assert early["recommendation"].startswith("provisional")
    final = experiments.results(exp, now=T0 + timedelta(days=7))
    by_arm = {a["name"]: a for a in final["arms"]}
    assert by_arm["treated"]["customers"] == len(treated)
    assert by_arm["control"]["customers"] == 40 - len(treated)
    assert (by_arm["treated"]["conversions"], by_arm["control"]["conversions"]) == (2, 1)
    assert by_arm["control"]["vs_control"] is None
    cmp = by_arm["treated"]["vs_control"]
    assert cmp["uplift"] == pytest.approx(2 / len(treated) - 1 / (40 - len(treated)))
    assert final["recommendation"] == "no significant difference from control"


@pytest.mark.django_db
@pytest.mark.sqlite
def test_variant_arms_start_at_their_own_step(workspace, django_capture_on_commit_callbacks):
    scenario = factories.published(workspace, factories.template("defective_item"))
    with transaction.atomic():
        exp = services.experiment_start(
            actor=SYSTEM,
            scenario=scenario,
            horizon_at=T0 + timedelta(days=7),
            arms=[
                {"name": "control", "weight": 1, "holdout": True},
                {"name": "full", "weight": 1},
                {"name": "short", "weight": 1, "start": "offer"},
            ],
            goal={"event": "bot.exchange.accepted", "window_hours": 48},
        )
    customers = [f"cus_var{i:02d}" for i in range(45)]  # an empty arm: odds ~3e-8
    for cid in customers:
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            "customers.order.returned",
            {"order_id": new_public_id("ord"), "customer_id": cid, "reason": "defect"},
            T0,
        )
    first_step = {"control": None, "full": "apology", "short": "offer"}
    for run in Run.objects.filter(scenario=scenario):
        assert run.arm == runtime.assign_arm(run.customer_id, exp.public_id, tuple(exp.arms))["name"]
        actions = list(run.trace.filter(kind="action").order_by("seq").values_list("step", flat=True))
        assert (actions[0] if actions else None) == first_step[run.arm]
    assert set(Run.objects.values_list("arm", flat=True)) == {"control", "full", "short"}
