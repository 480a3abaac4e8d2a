"""Notifications: what the bell shows a user in a workspace. Rows carry a kind and references only."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace


class Notification(models.Model):
    public_id = PublicIdField(prefix="ntf")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # The recipient's public user id: core cannot reference the accounts user table.
    user_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=50, blank=True, default="")
    subject_id = models.CharField(max_length=64, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "user_id", "read_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.user_id}"
