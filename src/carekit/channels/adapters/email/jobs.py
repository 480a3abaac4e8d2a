"""The worker's poll of every IMAP mailbox (for deployments that run no `carekit email_fetch` watcher)."""

from __future__ import annotations

import imaplib
import logging

from django.db import transaction
from huey.exceptions import TaskLockedException

from carekit.channels import services
from carekit.channels.adapters.email import imap, oauth
from carekit.channels.enums import ChannelKind
from carekit.channels.models import Channel
from carekit.core.jobs import huey, periodic

logger = logging.getLogger(__name__)


def poll_all() -> dict[str, int]:
    """One fetch per active mailbox with IMAP; one mailbox's failure is noted and the others go on."""
    totals: dict[str, int] = {}
    for channel in Channel.objects.filter(kind=ChannelKind.EMAIL, is_active=True).order_by("pk"):
        if not channel.config.get("imap_host"):
            continue
        try:
            with huey.lock_task(f"email-imap-{channel.pk}"):
                report = imap.fetch_new(channel)
        except (imaplib.IMAP4.error, OSError, oauth.OAuthError) as exc:
            logger.warning("IMAP poll of %s: %s", channel.public_id, exc)
            with transaction.atomic(durable=True):
                services.note_error(channel, f"IMAP: {type(exc).__name__}: {exc}")
            continue
        except TaskLockedException:  # the previous poll of this mailbox still runs
            continue
        for key, n in report.dispositions.items():
            totals[key] = totals.get(key, 0) + n
    return totals


@periodic(minute="*", description="poll IMAP mailboxes of email channels")
def email_poll_imap() -> dict[str, int]:
    return poll_all()
