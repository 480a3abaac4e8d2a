"""The bot's per-workspace state: training examples and versioned intent models."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.bot.enums import DialogueState, ExampleSource, ExampleStatus, ModelStatus, SlotStatus
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


class BotSettings(models.Model):
    """Where the bot answers and whom it hands off to. One row per workspace."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    # Channel kinds the bot answers on ("api", "webchat", "email", "telegram", ...).
    enabled_channels = models.JSONField(default=list, blank=True)
    handoff_team_id = models.CharField(max_length=32, blank=True, default="")
    calendar_id = models.CharField(max_length=32, blank=True, default="")  # conversations' calendar
    # Size chart for the questionnaire: [{"size", "height": [min, max], "weight": [min, max]}].
    size_chart = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)


class Dialogue(models.Model):
    """The bot's state in one conversation: the running flow, what it collected, why it let go."""

    public_id = PublicIdField(prefix="bdl")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation_id = models.CharField(max_length=32)
    customer_id = models.CharField(max_length=32, db_index=True)
    channel = models.CharField(max_length=30)
    language = models.CharField(max_length=8, default="en")
    state = models.CharField(max_length=12, choices=DialogueState.choices, default=DialogueState.ACTIVE)
    flow = models.CharField(max_length=20, blank=True, default="")  # the question the bot waits on
    pending_intent = models.CharField(max_length=80, blank=True, default="")
    collected = models.JSONField(default=dict, blank=True)
    turns = models.JSONField(default=list, blank=True)  # understandings, newest last (capped)
    answered = models.JSONField(default=list, blank=True)  # what the bot told the customer (capped)
    misunderstood = models.PositiveSmallIntegerField(default=0)
    verified = models.BooleanField(default=False)
    handoff_reason = models.CharField(max_length=40, blank=True, default="")
    resolved_by_bot = models.BooleanField(default=False)
    reopened = models.BooleanField(default=False)  # within 72 h of the bot's resolution
    turn_count = models.PositiveIntegerField(default=0)
    fallback_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "conversation_id"], name="bot_dialogue_once")
        ]
        indexes = [models.Index(fields=["workspace", "created_at"], name="bot_dialogue_ws_time")]


class Turn(models.Model):
    """One customer message the bot handled: the idempotency record and the measures' raw data."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="turn_rows")
    message_id = models.CharField(max_length=32)
    intent = models.CharField(max_length=80, blank=True, default="")
    confidence = models.FloatField(default=0.0)
    decision = models.CharField(max_length=12)  # reply | answer | action | clarify | handoff | flow
    reason = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "message_id"], name="bot_turn_once")]


class ConsultationSlot(models.Model):
    """A bookable consultation or fitting slot (no booking context exists: the bot keeps its own)."""

    public_id = PublicIdField(prefix="bsl")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(max_length=10, choices=SlotStatus.choices, default=SlotStatus.FREE)
    customer_id = models.CharField(max_length=32, blank=True, default="")
    conversation_id = models.CharField(max_length=32, blank=True, default="")
    booked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "status", "starts_at"], name="bot_slot_free")]
