from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting")
    COMPLETED = "completed", _("Completed")
    GOAL = "goal", _("Goal reached")
    HELD_OUT = "held_out", _("Held out (control group)")
    KILLED = "killed", _("Stopped by the kill switch")
    FAILED = "failed", _("Failed")


ACTIVE_RUN_STATUSES = (RunStatus.RUNNING, RunStatus.WAITING)


class StepKind(models.TextChoices):
    ENTRY = "entry", _("Entry")
    ACTION = "action", _("Action")
    CONDITION = "condition", _("Condition")
    WAIT = "wait", _("Wait")
    RESUME = "resume", _("Resumed")
    SPLIT = "split", _("Random split")
    GOAL = "goal", _("Goal")
    END = "end", _("End")
    HOLDOUT = "holdout", _("Held out")
    KILLED = "killed", _("Kill switch")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ExperimentStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    STOPPED = "stopped", _("Stopped")
