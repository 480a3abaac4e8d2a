"""What the agent sees on an email message besides its text: who sent it and who else got it
(From, To, Cc, Bcc), or why an automatic mail was not answered."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from carekit.channels.models import EmailRecord
from carekit.conversations import public as conversations


def details(workspace_id: int, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    if not message_ids:
        return {}
    rows = EmailRecord.objects.filter(
        workspace_id=workspace_id, carekit_message_id__in=list(message_ids)
    ).order_by("id")
    out: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        lines = [(_("From"), r.from_address)] if r.from_address else []
        lines += [
            (label, ", ".join(values))
            for label, values in ((_("To"), r.to), (_("Cc"), r.cc), (_("Bcc"), r.bcc))
            if values
        ]
        out[r.carekit_message_id] = lines
    return out


def register() -> None:
    conversations.register_message_details(details)
