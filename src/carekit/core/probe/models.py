from django.db import models
from django.utils import timezone


class ProbeEffect(models.Model):
    """One row per handler run that committed. Deliberately not unique: tests count duplicates."""

    event_id = models.BigIntegerField(db_index=True)
    handler = models.CharField(max_length=100)
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
