"""Agent notifications by e-mail, for members who chose "by e-mail too": assignment, @mention, SLA warning
and breach, sent after commit through core's outbound registry (the file mail backend here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.db import transaction

from carekit.conversations import lifecycle, notify, services
from carekit.conversations.models import SlaPolicy
from carekit.conversations.tasks import sla_run_due
from carekit.conversations.tests.factories import inbound
from carekit.core.realtime.models import Notification
from carekit.testing.tenants import SYSTEM, add_member, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ORDER = [
    "Carekit: A conversation was assigned to you",
    "Carekit: You were mentioned in a conversation",
    "Carekit: A conversation is close to its SLA target",
    "Carekit: A conversation missed its SLA target",
]


def _mails(folder):
    out = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                msg = message_from_bytes(chunk.strip())
                out.append(
                    (
                        msg["To"],
                        str(make_header(decode_header(msg["Subject"]))),
                        msg.get_payload(decode=True).decode(),
                    )
                )
    return out


def test_members_who_chose_email_get_mails_for_assignment_mention_and_sla(
    workspace, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EMAIL_TRANSPORT = "file"
    settings.EMAIL_FILE_PATH = tmp_path
    settings.SITE_URL = "https://desk.example"
    anna = add_member(workspace, user=make_user(email="anna@example.test"))
    boris = add_member(workspace, user=make_user(email="boris@example.test"))
    with transaction.atomic():
        notify.preference_set(actor=SYSTEM, workspace=workspace, user_id=anna.user.public_id, email=True)
        notify.preference_set(actor=SYSTEM, workspace=workspace, user_id=boris.user.public_id, email=False)
        SlaPolicy.objects.create(workspace=workspace, name="Chat", first_response_minutes=10)
    conv = inbound(workspace, at=AT).conversation

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lifecycle.conversation_assign(actor=SYSTEM, conversation=conv, assignee_id=anna.public_id, at=AT)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.note_add(actor=SYSTEM, conversation=conv, author_id="", text="@anna and @boris, look")
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_run_due(at=AT + timedelta(minutes=8)) == (1, 0)
        assert sla_run_due(at=AT + timedelta(minutes=10)) == (0, 1)

    mails = sorted(_mails(tmp_path), key=lambda m: ORDER.index(m[1]))  # file names do not keep the order
    assert [(to, subject) for to, subject, _ in mails] == [
        ("anna@example.test", "Carekit: A conversation was assigned to you"),
        ("anna@example.test", "Carekit: You were mentioned in a conversation"),
        ("anna@example.test", "Carekit: A conversation is close to its SLA target"),
        ("anna@example.test", "Carekit: A conversation missed its SLA target"),
    ]
    assert f"https://desk.example/inbox/c/{conv.public_id}/" in mails[0][2]
    # In the app both were told; Boris (in-app only) got no mail.
    assert Notification.objects.filter(user_id=anna.user.public_id).count() == 4
    assert list(Notification.objects.filter(user_id=boris.user.public_id).values_list("kind", flat=True)) == [
        "conversations.mentioned"
    ]
