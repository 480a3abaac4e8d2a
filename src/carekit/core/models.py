"""Core infrastructure tables: workspaces (the tenant), the domain event outbox, worker heartbeats."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.core.ids import PublicIdField


class Workspace(models.Model):
    """The tenant. Every tenant-owned row elsewhere carries a foreign key to it."""

    public_id = PublicIdField(prefix="ws")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    default_language = models.CharField(max_length=8, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    require_two_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """One domain event, written in the same transaction as the change it records.

    Append-only. It doubles as the audit trail. Payloads carry ids and non-personal facts only.
    """

    public_id = PublicIdField(prefix="evt")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=50)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    actor_type = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Lists page newest-first by id within a workspace; time filters ride on the same order.
        indexes = [
            models.Index(fields=["workspace", "id"], name="event_ws_id"),
            models.Index(fields=["workspace", "type", "id"], name="event_ws_type"),
            models.Index(fields=["workspace", "subject_type", "subject_id"], name="event_ws_subject"),
            models.Index(fields=["workspace", "actor_type", "actor_id"], name="event_ws_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}:{self.subject_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    DEAD = "dead", "Dead letter"


class EventDelivery(models.Model):
    """The delivery of one event to one subscribed handler; the unit of retry and of idempotency."""

    # No database constraint: deliveries are written only by emit(), in the event's own transaction,
    # and the per-row check costs the hottest insert path ~15% (docs/performance.md).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    workspace_id = models.BigIntegerField()
    handler = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="delivery_once_per_handler")]
        # Partial indexes: a new delivery enters only the first; done rows (almost all) leave it.
        indexes = [
            models.Index(
                fields=["status", "available_at"],
                name="delivery_open_due",
                condition=models.Q(status__in=["pending", "running"]),
            ),
            models.Index(
                fields=["workspace_id", "id"], name="delivery_ws_dead", condition=models.Q(status="dead")
            ),
            models.Index(
                fields=["lease_token"], name="delivery_lease", condition=models.Q(lease_token__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} {self.handler} {self.status}"


class WorkerHeartbeat(models.Model):
    """A live worker stamps its row every few seconds; /readyz reads it."""

    name = models.CharField(max_length=120, unique=True)
    pid = models.IntegerField()
    beat_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name
