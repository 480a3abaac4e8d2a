"""Notification kinds of the inbox (the notifications are created by the services that decide them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from carekit.conversations import automation, services, sla
from carekit.core.realtime import notifications

notifications.register_kind(services.ASSIGNED, _("A conversation was assigned to you"))
notifications.register_kind(services.MENTIONED, _("You were mentioned in a conversation"))
notifications.register_kind(sla.SLA_WARNING, _("A conversation is close to its SLA target"))
notifications.register_kind(sla.SLA_BREACH, _("A conversation missed its SLA target"))
notifications.register_kind(automation.TEAM_NOTICE, _("For your team: %(title)s"))
