from django.db import models
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
