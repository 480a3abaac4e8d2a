"""Experiment results: conversion (or a numeric metric) per arm against the holdout control, with 95%
confidence intervals and a two-sided test at the fixed horizon.

The estimator is the difference of means (proportions are means of 0/1) with its unpooled standard
error; the test for proportions uses the pooled standard error under the null. Results shown before
the horizon are marked provisional and carry no recommendation (no peeking correction is needed
because nothing is decided before the horizon). The simulation test checks coverage and the
false-positive rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

from carekit.core.models import Event
from carekit.scenarios.conditions import Scope, evaluate
from carekit.scenarios.models import Experiment, Run

Z = NormalDist()


@dataclass(frozen=True)
class Comparison:
    uplift: float  # treated mean minus control mean
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool


def compare_proportions(n_c: int, x_c: int, n_t: int, x_t: int, *, alpha: float = 0.05) -> Comparison:
    if min(n_c, n_t) == 0:
        return Comparison(0.0, -math.inf, math.inf, 1.0, False)
    p_c, p_t = x_c / n_c, x_t / n_t
    diff = p_t - p_c
    se = math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    z = Z.inv_cdf(1 - alpha / 2)
    pooled = (x_c + x_t) / (n_c + n_t)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    p = 1.0 if se0 == 0 else 2 * (1 - Z.cdf(abs(diff) / se0))
    return Comparison(diff, diff - z * se, diff + z * se, p, p < alpha)


def compare_means(control: Sequence[float], treated: Sequence[float], *, alpha: float = 0.05) -> Comparison:
    """Welch's difference of means with a normal quantile (arms here hold hundreds of customers)."""
    n_c, n_t = len(control), len(treated)
    if min(n_c, n_t) < 2:
        return Comparison(0.0, -math.inf, math.inf, 1.0, False)
    m_c, m_t = sum(control) / n_c, sum(treated) / n_t
    v_c = sum((x - m_c) ** 2 for x in control) / (n_c - 1)
    v_t = sum((x - m_t) ** 2 for x in treated) / (n_t - 1)
    se = math.sqrt(v_c / n_c + v_t / n_t)
    diff = m_t - m_c
    z = Z.inv_cdf(1 - alpha / 2)
    p = 1.0 if se == 0 else 2 * (1 - Z.cdf(abs(diff) / se))
    return Comparison(diff, diff - z * se, diff + z * se, p, p < alpha)


@dataclass(frozen=True)
class ArmResult:
    name: str
    holdout: bool
    customers: int
    conversions: int
    mean: float
    vs_control: dict[str, Any] | None


def _goal_value(goal: Mapping[str, Any], events: list[Event]) -> float:
    """Conversion (1/0) or, with `metric`, the sum of that payload field over the goal events."""
    metric = goal.get("metric")
    if not metric:
        return 1.0 if events else 0.0
    total = 0.0
    for e in events:
        try:
            total += float(e.payload.get(metric) or 0)
        except (TypeError, ValueError):
            continue
    return total


def results(experiment: Experiment, *, now: datetime) -> dict[str, Any]:
    """Per arm: customers (first entry only), conversions within the window, the difference to control."""
    goal = experiment.goal
    window = timedelta(hours=int(goal["window_hours"]))
    first: dict[str, Run] = {}
    for r in (
        Run.objects.filter(scenario_id=experiment.scenario_id, trigger_at__gte=experiment.started_at)
        .exclude(arm="")
        .order_by("trigger_at", "id")
    ):
        first.setdefault(r.customer_id, r)
    by_customer: dict[str, list[Event]] = {}
    if first:
        evs = Event.objects.filter(
            workspace_id=experiment.workspace_id,
            type=goal["event"],
            occurred_at__gte=experiment.started_at,
            occurred_at__lte=now,
        )
        for e in evs.order_by("occurred_at", "id"):
            cid = str(e.payload.get("customer_id") or "")
            run = first.get(cid)
            if run is None or not (run.trigger_at < e.occurred_at <= run.trigger_at + window):
                continue
            scope = Scope(event={}, last_event=e.payload, at=e.occurred_at, load_tz=lambda: None)  # type: ignore[arg-type,return-value]
            if evaluate(goal.get("when", []), scope)[0]:
                by_customer.setdefault(cid, []).append(e)
    values: dict[str, list[float]] = {str(a["name"]): [] for a in experiment.arms}
    for cid, run in first.items():
        if run.arm in values:
            values[run.arm].append(_goal_value(goal, by_customer.get(cid, [])))
    control = next(a for a in experiment.arms if a.get("holdout"))
    c_vals = values[str(control["name"])]
    at_horizon = now >= experiment.horizon_at
    enough = all(len(v) >= experiment.min_sample_per_arm for v in values.values())
    arms = []
    for a in experiment.arms:
        name = str(a["name"])
        vals = values[name]
        vs = None
        if not a.get("holdout"):
            if goal.get("metric"):
                cmp = compare_means(c_vals, vals)
            else:
                cmp = compare_proportions(len(c_vals), int(sum(c_vals)), len(vals), int(sum(vals)))
            vs = asdict(cmp)
        conversions = sum(1 for v in vals if v > 0)
        arms.append(
            asdict(
                ArmResult(
                    name,
                    bool(a.get("holdout")),
                    len(vals),
                    conversions,
                    (sum(vals) / len(vals)) if vals else 0.0,
                    vs,
                )
            )
        )
    if not at_horizon:
        recommendation = f"provisional: wait for the horizon ({experiment.horizon_at.isoformat()})"
    elif not enough:
        recommendation = f"not enough sample: every arm needs {experiment.min_sample_per_arm} customers"
    else:
        winners = [
            a
            for a in arms
            if a["vs_control"] and a["vs_control"]["significant"] and a["vs_control"]["uplift"] > 0
        ]
        losers = [
            a
            for a in arms
            if a["vs_control"] and a["vs_control"]["significant"] and a["vs_control"]["uplift"] < 0
        ]
        if winners:
            best = max(winners, key=lambda a: a["vs_control"]["uplift"])
            recommendation = f"roll out: {best['name']} beats control"
        elif losers:
            recommendation = "stop: the scenario does worse than control"
        else:
            recommendation = "no significant difference from control"
    return {
        "experiment_id": experiment.public_id,
        "status": experiment.status,
        "at_horizon": at_horizon,
        "enough_sample": enough,
        "goal": goal,
        "arms": arms,
        "recommendation": recommendation,
    }
