"""Runs follow a customer merge, move back on unmerge, and go with an erasure."""

from __future__ import annotations

import pytest
from django.utils import timezone

from carekit.customers import public as customers
from carekit.scenarios import providers
from carekit.scenarios.models import Run
from carekit.scenarios.tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _run(ws, scenario, cid, event_id):
    return Run.objects.create(
        workspace=ws,
        scenario=scenario,
        version=scenario.published,
        customer_id=cid,
        trigger_event_id=event_id,
        trigger_at=timezone.now(),
    )


def test_merge_unmerge_and_erase(workspace):
    scenario = factories.published(workspace, factories.template("defective_item"))
    moved = _run(workspace, scenario, "cus_merged", 1)
    kept = _run(workspace, scenario, "cus_survivor", 2)
    ctx = customers.MergeContext(workspace.pk, "cus_survivor", "cus_merged", "mrg_1")
    providers.merge(ctx)
    assert set(Run.objects.values_list("customer_id", flat=True)) == {"cus_survivor"}
    providers.unmerge(
        customers.MergeContext(
            workspace.pk, "cus_survivor", "cus_merged", "mrg_1", row_ids={"scenarios": (moved.pk,)}
        )
    )
    assert Run.objects.get(pk=moved.pk).customer_id == "cus_merged"
    assert Run.objects.get(pk=kept.pk).customer_id == "cus_survivor"
    providers.erase(workspace.pk, "cus_merged")
    assert list(Run.objects.values_list("pk", flat=True)) == [kept.pk]
    items = providers.timeline(customers.TimelineQuery(workspace.pk, "cus_survivor"))
    assert [(i.kind, i.ref) for i in items] == [("scenarios.run", kept.public_id)]
