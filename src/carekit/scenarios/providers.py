"""Providers for the customers registries: runs, messages and tasks reference a customer by id.

Merge moves them to the survivor (unmerge moves the listed rows back); erasure deletes the customer's
runs with their trace, messages and tasks; the timeline shows each run and its outcome.
"""

from __future__ import annotations

from django.db.models import Model

from carekit.customers import public as customers
from carekit.scenarios.models import Run, ScenarioMessage, ScenarioTask

PROVIDER = "scenarios"
REFERENCES: list[tuple[type[Model], str]] = [
    (Run, "customer_id"),
    (ScenarioMessage, "customer_id"),
    (ScenarioTask, "customer_id"),
]


def merge(ctx: customers.MergeContext) -> None:
    for model, field in REFERENCES:
        model._default_manager.filter(workspace_id=ctx.workspace_id, **{field: ctx.merged_id}).update(
            **{field: ctx.survivor_id}
        )


def unmerge(ctx: customers.MergeContext) -> None:
    ids = ctx.row_ids.get(PROVIDER, ())
    for model, field in REFERENCES:
        rows = model._default_manager.filter(workspace_id=ctx.workspace_id, pk__in=ids)
        rows.filter(**{field: ctx.survivor_id}).update(**{field: ctx.merged_id})


def erase(workspace_id: int, customer_id: str) -> None:
    Run.objects.filter(workspace_id=workspace_id, customer_id=customer_id).delete()


def timeline(query: customers.TimelineQuery) -> list[customers.TimelineItem]:
    qs = Run.objects.filter(workspace_id=query.workspace_id, customer_id=query.customer_id).select_related(
        "scenario"
    )
    if query.before is not None:
        qs = qs.filter(started_at__lte=query.before)
    return [
        customers.TimelineItem(
            occurred_at=r.started_at,
            kind="scenarios.run",
            ref=r.public_id,
            title=f"{r.scenario.name}: {r.get_status_display()}",
            data={"scenario_id": r.scenario.public_id, "status": r.status, "steps": r.seq, "arm": r.arm},
        )
        for r in qs.order_by("-started_at", "-pk")[: query.limit]
    ]


def register() -> None:
    customers.register_merge_provider(PROVIDER, merge=merge, unmerge=unmerge)
    customers.register_erasure_provider(PROVIDER, erase)
    customers.register_timeline_provider(PROVIDER, timeline)
    for model, field in REFERENCES:
        customers.register_customer_reference(model, field, PROVIDER)
