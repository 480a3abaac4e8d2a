"""Channel instances, their health, and inputs held back with a visible reason (quarantine).

One row per configured channel: a web-chat widget, a mailbox, a Telegram bot, an SMS gateway, a phone
line. Settings that are not secret live in `config`; secrets (signing keys, bot tokens, passwords) in
`secrets`, never returned by the API after creation. Provider quirks stay in `adapters/<kind>/`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.channels.enums import ChannelKind, EmailDirection, EmailDisposition, QuarantineStatus
from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace


class Channel(models.Model):
    public_id = PublicIdField(prefix="chn")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=ChannelKind.choices)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    # Public, unguessable: in the widget's script tag and in inbound webhook URLs.
    public_key = models.CharField(max_length=40, unique=True)
    config = models.JSONField(default=dict)
    secrets = models.JSONField(default=dict)
    # After a rotation the previous signing secret is still accepted until this moment.
    previous_secrets = models.JSONField(default=dict)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind"], name="channel_ws_kind")]
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class QuarantinedInput(models.Model):
    """Inbound data a channel refused to turn into a message, kept so an admin sees why."""

    public_id = PublicIdField(prefix="chq")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="quarantine")
    reason = models.CharField(max_length=60)  # a machine-readable code, e.g. "malformed_mime"
    detail = models.TextField(blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    excerpt = models.TextField(blank=True, default="")  # the first few KB, decoded leniently
    status = models.CharField(max_length=12, choices=QuarantineStatus.choices, default=QuarantineStatus.HELD)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "channel", "status"], name="chq_ws_channel")]
        ordering = ["-pk"]


# --- email adapter (adapters/email/) ------------------------------------------------------------------


class EmailThread(models.Model):
    """One email thread of a mailbox channel. Its `token` is the conversation's thread key and rides in
    the Reply-To address (`support+<token>@`) and in our Message-IDs, so replies find their thread even
    when a client drops In-Reply-To."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="email_threads")
    token = models.CharField(max_length=24)
    address = models.CharField(max_length=320)  # where replies go (Reply-To, else From)
    cc = models.JSONField(default=list)  # the last inbound mail's other recipients: replies go to all
    subject = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "token"], name="email_thread_token_once")]


class EmailRecord(models.Model):
    """Every mail the adapter saw or sent, with its addressing (CC/BCC shown to the agent on the
    message) and what was done with it: auto-replies and bounces are recorded here and never answered."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="email_records")
    thread = models.ForeignKey(
        EmailThread, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(max_length=10, choices=EmailDirection.choices)
    disposition = models.CharField(max_length=12, choices=EmailDisposition.choices)
    message_id = models.CharField(max_length=300, blank=True, default="")  # the Message-ID header
    in_reply_to = models.CharField(max_length=300, blank=True, default="")
    references = models.JSONField(default=list)
    from_address = models.CharField(max_length=320, blank=True, default="")
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    subject = models.CharField(max_length=300, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    conversation_id = models.CharField(max_length=32, blank=True, default="")
    carekit_message_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["channel", "message_id"], name="email_record_mid")]
        ordering = ["id"]


class ImapCursor(models.Model):
    """How far the IMAP fetcher has read one mailbox: a UID is read once per UIDVALIDITY."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    mailbox = models.CharField(max_length=200, default="INBOX")
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "mailbox"], name="imap_cursor_once")]


class AdapterCursor(models.Model):
    """Where an adapter that pulls from its provider stopped (e.g. Telegram's getUpdates offset), so a
    restart neither skips nor repeats input. One row per channel and cursor name."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="cursors")
    name = models.CharField(max_length=40)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "name"], name="adapter_cursor_once")]
