"""Every model that references a customer is covered by a registered provider (ARCHITECTURE.md rule 10)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from carekit.customers.registry import unregistered_customer_references

pytestmark = [pytest.mark.sqlite]


def test_every_installed_model_with_a_customer_reference_has_a_provider():
    assert unregistered_customer_references(list(apps.get_models())) == []


@isolate_apps("carekit.customers")
def test_an_unregistered_customer_reference_is_reported():
    class LoyaltyAccountProbe(models.Model):
        customer_id = models.CharField(max_length=32)
        points = models.IntegerField(default=0)

        class Meta:
            app_label = "customers"
            managed = False

    class PlainProbe(models.Model):
        title = models.CharField(max_length=10)

        class Meta:
            app_label = "customers"
            managed = False

    assert unregistered_customer_references([LoyaltyAccountProbe, PlainProbe]) == [
        "customers.loyaltyaccountprobe.customer_id"
    ]
