from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    MARKETER = "marketer", _("Marketer")
    ANALYST = "analyst", _("Analyst")
