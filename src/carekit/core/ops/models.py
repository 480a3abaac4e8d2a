"""The erasure journal: one row per erasure of personal data, mirrored to a file outside the database."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from carekit.core.models import Workspace


class ErasureRecord(models.Model):
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No database constraint: the journal must outlive the rows, even the workspace, it refers to.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    subject_type = models.CharField(max_length=50)
    subject_id = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "subject_type", "subject_id"], name="erasure_subject")
        ]

    def __str__(self) -> str:
        return f"erased {self.subject_type}:{self.subject_id}"
