from django.db import models
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    WEBCHAT = "webchat", _("Web chat")
    EMAIL = "email", _("Email")
    TELEGRAM = "telegram", _("Telegram")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")


class QuarantineStatus(models.TextChoices):
    HELD = "held", _("Held for review")
    DISMISSED = "dismissed", _("Dismissed")
    REPROCESSED = "reprocessed", _("Reprocessed")


class EmailDisposition(TextChoices):
    """What the email adapter did with one mail (channels.EmailRecord)."""

    RECEIVED = "received", _("Received")
    DUPLICATE = "duplicate", _("Duplicate")
    AUTO_REPLY = "auto_reply", _("Auto-reply (not answered)")
    BOUNCE = "bounce", _("Bounce (not answered)")
    OWN = "own", _("Sent by this mailbox (ignored)")
    QUARANTINED = "quarantined", _("Quarantined")
    SENT = "sent", _("Sent")


class EmailDirection(TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
