"""Scenarios, their versions, runs with a step trace, messages and tasks they create, experiments.

Runs keep the customer's public id (a reference, registered with the customers registries) and the
triggering event's facts; message bodies are rendered at send time and never stored.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace
from carekit.scenarios.enums import (
    ExperimentStatus,
    MessageStatus,
    RunStatus,
    StepKind,
    TaskStatus,
    VersionStatus,
)


class Scenario(models.Model):
    public_id = PublicIdField(prefix="scn")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # Copied from the published version so the event handler finds candidates with one index lookup.
    trigger_type = models.CharField(max_length=100, blank=True, default="")
    published = models.ForeignKey(
        "ScenarioVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    killed = models.BooleanField(default=False)  # the kill switch
    rate_limit_per_hour = models.PositiveIntegerField(null=True, blank=True)
    rate_limited = models.PositiveIntegerField(default=0)  # entries skipped by the rate limit
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "trigger_type"], name="scenario_ws_trigger")]

    def __str__(self) -> str:
        return self.name


class ScenarioVersion(models.Model):
    public_id = PublicIdField(prefix="scv")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scenario", "number"], name="scenario_version_number")]

    def __str__(self) -> str:
        return f"{self.scenario_id} v{self.number}"


class Run(models.Model):
    public_id = PublicIdField(prefix="run")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(ScenarioVersion, on_delete=models.PROTECT, related_name="runs")
    customer_id = models.CharField(max_length=64, blank=True, default="")
    trigger_event_id = models.BigIntegerField()
    trigger_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    arm = models.CharField(max_length=40, blank=True, default="")
    # The engine's state: current step, trigger facts, awaited event, variables (see engine.RunState).
    context = models.JSONField(default=dict)
    step = models.CharField(max_length=60, blank=True, default="")
    seq = models.PositiveIntegerField(default=0)
    wait_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scenario", "trigger_event_id"], name="run_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["workspace", "customer_id", "status"], name="run_ws_customer"),
            models.Index(fields=["scenario", "trigger_at"], name="run_scenario_time"),
            models.Index(fields=["wait_until"], name="run_wait_due", condition=models.Q(status="waiting")),
        ]

    def __str__(self) -> str:
        return self.public_id


class StepRun(models.Model):
    """One line of a run's trace: which step ran, the branch it took and the values it compared."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="trace")
    seq = models.PositiveIntegerField()
    step = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    outcome = models.CharField(max_length=40, blank=True, default="")
    branch = models.CharField(max_length=60, blank=True, default="")
    detail = models.JSONField(default=dict)
    at = models.DateTimeField()  # the run's logical time (ADR 0901)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="step_once_per_run_seq")]


class ScenarioMessage(models.Model):
    """A message a run decided to send: sent after commit by a job, held while quiet hours last."""

    public_id = PublicIdField(prefix="smg")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="messages")
    customer_id = models.CharField(max_length=64)
    step = models.CharField(max_length=60)
    idempotency_key = models.CharField(max_length=120, unique=True)
    channel = models.CharField(max_length=20)
    message_class = models.CharField(max_length=10)
    template = models.TextField()
    subject = models.CharField(max_length=200, blank=True, default="")
    planned_at = models.DateTimeField()  # logical time of the decision (frequency caps count these)
    due_at = models.DateTimeField(null=True, blank=True)  # set when quiet hours hold it
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)  # a sender holds it until then
    provider_id = models.CharField(max_length=200, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "customer_id", "message_class", "planned_at"], name="smsg_caps"
            ),
            models.Index(fields=["status", "due_at"], name="smsg_due", condition=models.Q(status="pending")),
        ]


class ScenarioTask(models.Model):
    """A task or team notification a run created, kept here until the inbox registers its port."""

    public_id = PublicIdField(prefix="stk")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    customer_id = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20)  # task | notification
    team = models.CharField(max_length=100, blank=True, default="")
    title = models.CharField(max_length=300)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)


class Experiment(models.Model):
    """A holdout test of a scenario: customers are hashed into arms; the control arm gets nothing."""

    public_id = PublicIdField(prefix="exp")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="experiments")
    status = models.CharField(
        max_length=10, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING
    )
    arms = models.JSONField(default=list)  # [{"name", "weight", "holdout", "start"}]
    goal = models.JSONField(default=dict)  # {"event", "filters", "window_hours", "metric"}
    horizon_at = models.DateTimeField()
    min_sample_per_arm = models.PositiveIntegerField(default=100)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scenario"], condition=models.Q(status="running"), name="one_running_experiment"
            )
        ]
