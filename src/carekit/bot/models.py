"""The bot's per-workspace state: training examples and versioned intent models."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.bot.enums import ExampleSource, ExampleStatus, ModelStatus
from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace


class TrainingExample(models.Model):
    """A labelled message. About one in five is held out: never trained on, used to decide whether a
    retrained model may replace the active one."""

    public_id = PublicIdField(prefix="bex")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=1000)
    intent = models.CharField(max_length=80)
    language = models.CharField(max_length=8)
    source = models.CharField(max_length=12, choices=ExampleSource.choices, default=ExampleSource.MANUAL)
    status = models.CharField(max_length=12, choices=ExampleStatus.choices, default=ExampleStatus.ACTIVE)
    held_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "text"], name="bot_example_text_once")]
        indexes = [models.Index(fields=["workspace", "status"], name="bot_example_ws_status")]

    def __str__(self) -> str:
        return f"{self.intent}: {self.text[:40]}"


class BotModel(models.Model):
    """One trained intent model of a workspace, with the figures it was chosen and judged by."""

    public_id = PublicIdField(prefix="bmd")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=ModelStatus.choices, default=ModelStatus.TRAINING)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, for the UI while training
    artifact = models.BinaryField(null=True, blank=True)
    figures = models.JSONField(default=dict)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "version"], name="bot_model_version_once"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(status="active"), name="bot_model_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"model v{self.version} ({self.status})"
