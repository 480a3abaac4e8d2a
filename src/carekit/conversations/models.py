"""The inbox: conversations, messages, notes, attachments, routing, SLA clocks, tasks, canned replies.

References to other contexts are their opaque public ids (customer, team, member), never foreign keys:
contexts meet only through `public` modules.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from carekit.conversations.enums import (
    ActivityKind,
    AssignmentStrategy,
    AuthorKind,
    ClockState,
    CompensationOutcome,
    ConversationStatus,
    DeliveryState,
    Direction,
    MessageClass,
    Presence,
    Priority,
    SlaTarget,
    TaskKind,
    TaskStatus,
)
from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace
from carekit.core.webhooks.models import WebhookSubscription

DEFAULT_ALLOWED_TYPES = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
]


class InboxSettings(models.Model):
    """Per-workspace inbox rules; created with defaults on first use."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    reopen_days = models.PositiveIntegerField(default=7)
    attachment_max_bytes = models.PositiveIntegerField(default=10 * 1024 * 1024)
    attachment_quota_bytes = models.PositiveBigIntegerField(default=1024 * 1024 * 1024)
    attachment_used_bytes = models.PositiveBigIntegerField(default=0)
    allowed_types = models.JSONField(default=list)
    tone_guide = models.TextField(blank=True, default="")
    auto_away_minutes = models.PositiveIntegerField(default=15)
    # How {order.tracking_url} is built, e.g. "https://track.example/{tracking_number}".
    tracking_url_template = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(attachment_used_bytes__lte=models.F("attachment_quota_bytes")),
                name="inbox_quota_kept",
            )
        ]


class Conversation(models.Model):
    public_id = PublicIdField(prefix="cnv")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(max_length=32, db_index=True)
    channel = models.CharField(max_length=30)  # the channel kind, as senders register it ("api", ...)
    channel_ref = models.CharField(max_length=40, blank=True, default="")  # the channel instance id
    thread_key = models.CharField(max_length=200)  # the provider's thread (one conversation per thread)
    subject = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    team_id = models.CharField(max_length=32, blank=True, default="")
    assignee_id = models.CharField(max_length=32, blank=True, default="")  # a member's public id
    tags = models.JSONField(default=list)
    language = models.CharField(max_length=8, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    # When the customer started waiting for an answer (None: the last word was ours).
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Set by a routing rule that requires a skill: only agents with it may take the conversation.
    required_skill = models.CharField(max_length=60, blank=True, default="")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_count = models.PositiveIntegerField(default=0)
    # The first-line bot holds the conversation: routing does not assign it until the bot hands off.
    bot_active = models.BooleanField(default=False)
    # Shown above the transcript (the bot's hand-off summary): {"title", "lines": [...], "by", "at"}.
    pinned = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "last_message_at"], name="cnv_ws_status_last"),
            models.Index(fields=["workspace", "assignee_id", "status"], name="cnv_ws_assignee"),
            # inbox pages: newest activity first, per workspace and per assignee
            models.Index(fields=["workspace", "last_message_at", "id"], name="cnv_ws_last"),
            models.Index(
                fields=["workspace", "assignee_id", "last_message_at", "id"], name="cnv_ws_assignee_last"
            ),
            models.Index(fields=["workspace", "team_id", "status"], name="cnv_ws_team"),
            models.Index(fields=["workspace", "channel", "channel_ref", "thread_key"], name="cnv_thread"),
        ]

    def __str__(self) -> str:
        return self.public_id


class Message(models.Model):
    public_id = PublicIdField(prefix="msg")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author_id = models.CharField(max_length=32, blank=True, default="")
    text = models.TextField(blank=True, default="")
    html = models.TextField(blank=True, default="")  # sanitized; never the raw input
    # "<channel>:<channel_ref>": external ids are unique per channel instance.
    channel_key = models.CharField(max_length=80)
    external_id = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.RECEIVED)
    message_class = models.CharField(max_length=10, choices=MessageClass.choices, default=MessageClass.REPLY)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    provider_id = models.CharField(max_length=200, blank=True, default="")
    canned_response_id = models.CharField(max_length=32, blank=True, default="")
    # Channel-neutral extras for senders (docs/inbox.md): {"quick_replies": [{"title", "payload"}]}.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel_key", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_once",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="msg_conversation"),
            models.Index(fields=["state", "next_attempt_at"], name="msg_delivery_due"),
        ]

    def __str__(self) -> str:
        return self.public_id


class Attachment(models.Model):
    public_id = PublicIdField(prefix="att")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to="attachments/%Y/%m/")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class Note(models.Model):
    """An internal note: never sent to the customer. `mentions` are member public ids."""

    public_id = PublicIdField(prefix="nte")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author_id = models.CharField(max_length=32)
    text = models.TextField()
    mentions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.public_id


class Activity(models.Model):
    """The conversation's own timeline of changes (one row per change, written with it)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.CharField(max_length=80)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class AgentState(models.Model):
    """Presence and capacity of one member in the inbox."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    member_id = models.CharField(max_length=32)
    user_id = models.CharField(max_length=32, blank=True, default="")
    presence = models.CharField(max_length=10, choices=Presence.choices, default=Presence.OFFLINE)
    capacity = models.PositiveIntegerField(default=5)
    # Per channel kind, e.g. {"api": 2}; a channel not listed uses `capacity`.
    channel_capacity = models.JSONField(default=dict)
    skills = models.JSONField(default=list)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "member_id"], name="agent_state_once")]

    def capacity_for(self, channel: str) -> int:
        return int(self.channel_capacity.get(channel, self.capacity))


class TeamRouting(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    team_id = models.CharField(max_length=32)
    strategy = models.CharField(
        max_length=12, choices=AssignmentStrategy.choices, default=AssignmentStrategy.LEAST_LOAD
    )
    calendar = models.ForeignKey("BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "team_id"], name="team_routing_once")]


class RoutingRule(models.Model):
    """First matching active rule (by position) sets team and priority. Empty conditions match all."""

    public_id = PublicIdField(prefix="rrl")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=30, blank=True, default="")
    language = models.CharField(max_length=8, blank=True, default="")
    tags = models.JSONField(default=list)  # all of these customer/conversation tags
    keywords = models.JSONField(default=list)  # any of these words in the message
    intent = models.CharField(max_length=60, blank=True, default="")
    team_id = models.CharField(max_length=32, blank=True, default="")
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True, default="")
    skill = models.CharField(max_length=60, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]


class BusinessCalendar(models.Model):
    """Working hours per weekday (0 = Monday) in the calendar's time zone, plus closed dates."""

    public_id = PublicIdField(prefix="cal")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC")
    # {"0": [["09:00", "19:00"]], ...}; a weekday not listed is closed.
    hours = models.JSONField(default=dict)
    holidays = models.JSONField(default=list)  # ["2026-12-31", ...]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets in business minutes; the first matching policy by position applies to a conversation."""

    public_id = PublicIdField(prefix="sla")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True, default="")
    channel = models.CharField(max_length=30, blank=True, default="")
    customer_tag = models.CharField(max_length=60, blank=True, default="")
    team_id = models.CharField(max_length=32, blank=True, default="")
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    warn_at_percent = models.PositiveIntegerField(default=80)
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL)
    # breach actions
    notify = models.BooleanField(default=True)
    escalate_team_id = models.CharField(max_length=32, blank=True, default="")
    raise_priority = models.BooleanField(default=False)
    compensate_points = models.PositiveIntegerField(default=0)
    compensate_coupon = models.CharField(max_length=60, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def minutes_for(self, target: str) -> int | None:
        return {
            SlaTarget.FIRST_RESPONSE: self.first_response_minutes,
            SlaTarget.NEXT_RESPONSE: self.next_response_minutes,
            SlaTarget.RESOLUTION: self.resolution_minutes,
        }[SlaTarget(target)]


class SlaClock(models.Model):
    """One target's clock on one conversation. `consumed` counts business seconds already spent in
    earlier running spells (before a pause); `due_at` is set only while running."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="clocks")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="+")
    target = models.CharField(max_length=20, choices=SlaTarget.choices)
    cycle = models.PositiveIntegerField(default=1)  # next-response clocks restart per customer turn
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    target_seconds = models.PositiveIntegerField()
    consumed_seconds = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    compensation = models.CharField(
        max_length=10, choices=CompensationOutcome.choices, blank=True, default=CompensationOutcome.NONE
    )
    compensation_id = models.CharField(max_length=32, blank=True, default="")
    compensation_refusal = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "target", "cycle"], name="sla_clock_once")
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="sla_clock_due"),
            models.Index(fields=["state", "warn_at"], name="sla_clock_warn"),
        ]


class Task(models.Model):
    public_id = PublicIdField(prefix="tsk")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=TaskKind.choices, default=TaskKind.TODO)
    title = models.CharField(max_length=300)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    customer_id = models.CharField(max_length=32, blank=True, default="")
    assignee_id = models.CharField(max_length=32, blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source = models.CharField(max_length=60, blank=True, default="")  # which context created it
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "assignee_id", "status"], name="task_ws_assignee")]


class CannedResponse(models.Model):
    """A reply template; the same shortcut may have one variant per language."""

    public_id = PublicIdField(prefix="cnr")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    shortcut = models.SlugField(max_length=60)
    title = models.CharField(max_length=120)
    body = models.TextField()
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "shortcut", "language"], name="canned_once")
        ]
        ordering = ["shortcut", "language"]


class ApiChannel(models.Model):
    """The generic API channel: an external system posts inbound messages with its own ids, and gets
    outbound messages at its webhook URL, signed and retried by core webhooks."""

    public_id = PublicIdField(prefix="apc")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Macro(models.Model):
    """A named bundle of actions an agent applies in one click, e.g. [{"type": "reply", "canned_id":
    "cnr_..."}, {"type": "priority", "value": "high"}, {"type": "resolve"}]."""

    public_id = PublicIdField(prefix="mac")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AutomationEffect(models.Model):
    """One effect of a scenario step on the inbox, keyed by the step's idempotency key: a retried step
    finds its row and answers "duplicate" instead of acting twice."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=120)
    run_id = models.CharField(max_length=32, blank=True, default="")
    action = models.CharField(max_length=40)
    ref = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "idempotency_key"], name="automation_effect_once")
        ]
        indexes = [models.Index(fields=["workspace", "run_id", "action"], name="automation_effect_run")]


class Script(models.Model):
    """A guided script (checklist) in the agent's sidebar. `steps` are [{"text", "points"}]; `limits` the
    most points each role may grant, e.g. {"agent": 300, "supervisor": 1000}."""

    public_id = PublicIdField(prefix="scr")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="scripts")
    title = models.CharField(max_length=200, blank=True, default="")
    steps = models.JSONField(default=list)
    limits = models.JSONField(default=dict)
    source = models.CharField(max_length=60, blank=True, default="")  # e.g. the scenario run
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class ScriptTick(models.Model):
    """A ticked step of a script; a step with points granted them through loyalty when ticked."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="ticks")
    index = models.PositiveIntegerField()
    member_id = models.CharField(max_length=32)
    role = models.CharField(max_length=20)
    outcome = models.CharField(
        max_length=10, choices=CompensationOutcome.choices, blank=True, default=CompensationOutcome.NONE
    )
    compensation_id = models.CharField(max_length=32, blank=True, default="")
    refusal = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["script", "index"], name="script_tick_once")]


class NotificationPreference(models.Model):
    """How a member hears about inbox notifications: in the app only, or by e-mail too."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user_id = models.CharField(max_length=32)
    email = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user_id"], name="notification_preference_once")
        ]
