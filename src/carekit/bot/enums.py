from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelStatus(models.TextChoices):
    TRAINING = "training", _("Training")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")
    REJECTED = "rejected", _("Rejected: worse on held-out examples")
    FAILED = "failed", _("Failed")


class ExampleSource(models.TextChoices):
    MANUAL = "manual", _("Written by the team")
    SUGGESTED = "suggested", _("Suggested from a conversation")


class ExampleStatus(models.TextChoices):
    ACTIVE = "active", _("In use")
    SUGGESTED = "suggested", _("Waiting for review")
    REJECTED = "rejected", _("Rejected")


class DialogueState(models.TextChoices):
    ACTIVE = "active", _("Bot is answering")
    HANDED_OFF = "handed_off", _("Handed off to a person")
    RESOLVED = "resolved", _("Resolved by the bot")


class SlotStatus(models.TextChoices):
    FREE = "free", _("Free")
    BOOKED = "booked", _("Booked")
