"""Conversations and messages: idempotent intake, the lifecycle rule, bad input, sending, actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.conversations import lifecycle, replies, services
from carekit.conversations.enums import ActivityKind, ConversationStatus, DeliveryState, Direction
from carekit.conversations.models import Activity, Attachment, Conversation, InboxSettings, Message
from carekit.conversations.services import AttachmentRefused, ConversationClosed, NewAttachment
from carekit.conversations.tests.factories import conversation, inbound
from carekit.core import outbound
from carekit.core.models import Event
from carekit.customers import public as customers
from carekit.testing.outbound import recording
from carekit.testing.tenants import SYSTEM, add_member
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_the_same_external_id_delivered_twice_creates_one_message(workspace):
    first = inbound(workspace, ext="A-1")
    second = inbound(workspace, ext="A-1", text="the provider retried")
    assert second.duplicate is True
    assert second.message.pk == first.message.pk
    assert Message.objects.filter(workspace=workspace).count() == 1
    assert Event.objects.filter(workspace=workspace, type="conversations.message.received").count() == 1
    conv = Conversation.objects.get(pk=first.conversation.pk)
    assert conv.message_count == 1


def test_the_same_external_id_on_another_channel_is_another_message(workspace):
    inbound(workspace, ext="A-1")
    other = inbound(workspace, ext="A-1", channel_ref="apc_other")
    assert other.duplicate is False
    assert Message.objects.filter(workspace=workspace).count() == 2


def _resolve_at(conv, at):
    with transaction.atomic():
        lifecycle.conversation_resolve(actor=SYSTEM, conversation=conv, at=at)


def test_a_message_3_days_after_resolution_reopens_the_conversation(workspace):
    t0 = timezone.now() - timedelta(days=20)
    first = inbound(workspace, at=t0)
    _resolve_at(first.conversation, t0 + timedelta(hours=1))
    again = inbound(workspace, at=t0 + timedelta(days=3, hours=1))
    assert again.reopened is True
    assert again.conversation.pk == first.conversation.pk
    conv = Conversation.objects.get(pk=first.conversation.pk)
    assert conv.status == ConversationStatus.OPEN
    assert conv.message_count == 2
    assert list(conv.activities.values_list("kind", flat=True)) == [
        ActivityKind.CREATED,
        ActivityKind.RESOLVED,
        ActivityKind.REOPENED,
    ]


def test_a_message_10_days_after_resolution_starts_a_new_conversation(workspace):
    t0 = timezone.now() - timedelta(days=20)
    first = inbound(workspace, at=t0)
    _resolve_at(first.conversation, t0 + timedelta(hours=1))
    later = inbound(workspace, at=t0 + timedelta(days=10, hours=1))
    assert later.conversation_created is True
    assert later.conversation.pk != first.conversation.pk
    old = Conversation.objects.get(pk=first.conversation.pk)
    assert old.status == ConversationStatus.CLOSED
    assert later.conversation.customer_id == old.customer_id
    # the customer timeline shows both conversations
    from carekit.customers.registry import TIMELINE_PROVIDERS, TimelineQuery

    items = TIMELINE_PROVIDERS["conversations"](TimelineQuery(workspace.pk, old.customer_id))
    assert [i.ref for i in items] == [later.conversation.public_id, old.public_id]


def test_the_reopen_window_is_a_workspace_setting(workspace):
    with transaction.atomic():
        services.inbox_settings_update(actor=SYSTEM, workspace=workspace, changes={"reopen_days": 2})
    t0 = timezone.now() - timedelta(days=20)
    first = inbound(workspace, at=t0)
    _resolve_at(first.conversation, t0)
    assert inbound(workspace, at=t0 + timedelta(days=3)).conversation_created is True


def test_a_customer_message_to_a_closed_conversation_starts_a_new_one(workspace):
    first = inbound(workspace)
    with transaction.atomic():
        lifecycle.conversation_close(actor=SYSTEM, conversation=first.conversation)
    again = inbound(workspace)
    assert again.conversation_created is True
    assert Conversation.objects.get(pk=first.conversation.pk).status == ConversationStatus.CLOSED


def test_an_agent_message_to_a_closed_conversation_is_refused(workspace):
    conv = conversation(workspace)
    with transaction.atomic():
        lifecycle.conversation_close(actor=SYSTEM, conversation=conv)
    with pytest.raises(ConversationClosed), transaction.atomic():
        services.message_send(actor=SYSTEM, conversation=conv, text="Still there?")
    assert Message.objects.filter(conversation=conv, direction=Direction.OUTBOUND).count() == 0


def test_html_with_scripts_is_sanitized(workspace):
    r = inbound(
        workspace,
        text="",
        html='<p onclick="steal()">Hi <b>there</b><script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a><a href="https://shop.example/o/1">order</a>'
        "<img src=x onerror=alert(3)><style>p{}</style></p>",
    )
    m = r.message
    assert m.html == (
        '<p>Hi <b>there</b><a>x</a><a href="https://shop.example/o/1" rel="nofollow noopener" '
        'target="_blank">order</a></p>'
    )
    assert m.text == "Hi therexorder"
    for bad in ("script", "onerror", "javascript"):
        assert bad not in m.html


def test_plain_text_is_escaped_into_html(workspace):
    m = inbound(workspace, text="a <b> & c\nnext").message
    assert m.html == "<p>a &lt;b&gt; &amp; c<br>next</p>"


def test_an_attachment_over_the_limit_is_refused_and_nothing_is_stored(workspace):
    with transaction.atomic():
        services.inbox_settings_update(
            actor=SYSTEM, workspace=workspace, changes={"attachment_max_bytes": 1000}
        )
    big = NewAttachment("photo.png", "image/png", b"x" * 1001)
    with pytest.raises(AttachmentRefused) as exc:
        inbound(workspace, attachments=(big,))
    assert exc.value.code == "attachment_too_large"
    assert Message.objects.filter(workspace=workspace).count() == 0
    assert Conversation.objects.filter(workspace=workspace).count() == 0


def test_a_disallowed_type_is_refused(workspace):
    exe = NewAttachment("setup.exe", "application/x-msdownload", b"MZ")
    with pytest.raises(AttachmentRefused) as exc:
        inbound(workspace, attachments=(exe,))
    assert exc.value.code == "attachment_type_not_allowed"
    assert Attachment.objects.count() == 0


def test_attachments_count_against_the_workspace_quota(workspace, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with transaction.atomic():
        services.inbox_settings_update(
            actor=SYSTEM, workspace=workspace, changes={"attachment_quota_bytes": 150}
        )
    ok = inbound(workspace, attachments=(NewAttachment("a.pdf", "application/pdf", b"%" * 100),))
    assert ok.message.attachments.get().size == 100
    assert InboxSettings.objects.get(workspace=workspace).attachment_used_bytes == 100
    with pytest.raises(AttachmentRefused) as exc:
        inbound(workspace, attachments=(NewAttachment("b.pdf", "application/pdf", b"%" * 60),))
    assert exc.value.code == "attachment_quota_exceeded"
    assert Attachment.objects.filter(workspace=workspace).count() == 1


def test_an_empty_message_is_refused(workspace):
    from carekit.core.errors import DomainError

    with pytest.raises(DomainError):
        inbound(workspace, text="   ")


def test_message_send_goes_through_the_channels_registered_sender(
    workspace, django_capture_on_commit_callbacks
):
    conv = conversation(workspace)
    with recording("api") as sender, django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        msg = services.message_send(actor=SYSTEM, conversation=conv, text="It ships today.")
    assert [(m.channel, m.to, m.body, m.idempotency_key) for m in sender.sent] == [
        ("api", conv.thread_key, "It ships today.", msg.public_id)
    ]
    msg.refresh_from_db()
    assert msg.state == DeliveryState.SENT
    assert msg.attempts == 1
    assert msg.provider_id == "rec-1"
    conv.refresh_from_db()
    assert conv.first_response_at == msg.created_at
    assert conv.waiting_since is None


class FlakySender:
    channel = "api"

    def __init__(self, results):
        self.results = list(results)
        self.calls = 0

    def send(self, message):
        self.calls += 1
        return self.results.pop(0)


def test_a_retryable_failure_requeues_and_a_terminal_one_fails(workspace, django_capture_on_commit_callbacks):
    from carekit.conversations import delivery

    conv = conversation(workspace)
    flaky = FlakySender(
        [
            outbound.SendResult(ok=False, error="503", retryable=True),
            outbound.SendResult(ok=False, error="bad"),
        ]
    )
    previous = outbound._SENDERS.get("api")
    outbound.register_sender(flaky, replace=True)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            msg = services.message_send(actor=SYSTEM, conversation=conv, text="Hello")
        msg.refresh_from_db()
        assert (msg.state, msg.attempts, msg.last_error) == (DeliveryState.QUEUED, 1, "503")
        assert delivery.attempt(msg.pk) is None  # not due yet
        assert delivery.attempt(msg.pk, now=msg.next_attempt_at) == DeliveryState.FAILED
        msg.refresh_from_db()
        assert (msg.state, msg.attempts, msg.last_error) == (DeliveryState.FAILED, 2, "bad")
    finally:
        if previous is not None:
            outbound.register_sender(previous, replace=True)
    states = [
        e.payload["state"]
        for e in Event.objects.filter(type="conversations.message.delivery_changed").order_by("pk")
    ]
    assert states == ["queued", "failed"]


def test_marketing_without_consent_is_refused(workspace):
    from carekit.core.errors import DomainError

    conv = conversation(workspace)
    with pytest.raises(DomainError) as exc, transaction.atomic():
        services.message_send(actor=SYSTEM, conversation=conv, text="Sale!", message_class="marketing")
    assert exc.value.code == "no_consent"


def test_services_run_inside_the_callers_transaction(workspace):
    conv = conversation(workspace)
    call_inside_transaction(services.message_send, actor=SYSTEM, conversation=conv, text="ok")
    call_inside_transaction(lifecycle.conversation_resolve, actor=SYSTEM, conversation=conv)


def test_assign_snooze_resolve_reopen_each_write_a_timeline_row_and_an_event(workspace):
    agent = add_member(workspace)
    conv = conversation(workspace)
    later = timezone.now() + timedelta(hours=2)
    with transaction.atomic():
        lifecycle.conversation_assign(actor=SYSTEM, conversation=conv, assignee_id=agent.public_id)
        lifecycle.conversation_snooze(actor=SYSTEM, conversation=conv, until=later)
        lifecycle.conversation_resolve(actor=SYSTEM, conversation=conv)
        lifecycle.conversation_reopen(actor=SYSTEM, conversation=conv)
    kinds = list(Activity.objects.filter(conversation=conv).values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "snoozed", "resolved", "reopened"]
    types = list(
        Event.objects.filter(subject_id=conv.public_id, type__startswith="conversations.conversation.")
        .order_by("pk")
        .values_list("type", flat=True)
    )
    assert types == [
        "conversations.conversation.created",
        "conversations.conversation.assigned",
        "conversations.conversation.snoozed",
        "conversations.conversation.resolved",
        "conversations.conversation.reopened",
    ]


def test_snoozed_conversation_wakes_on_a_customer_message(workspace):
    r = inbound(workspace)
    with transaction.atomic():
        lifecycle.conversation_snooze(
            actor=SYSTEM, conversation=r.conversation, until=timezone.now() + timedelta(days=1)
        )
    inbound(workspace)
    assert Conversation.objects.get(pk=r.conversation.pk).status == ConversationStatus.OPEN


def test_merge_moves_messages_and_closes_the_source(workspace):
    a = inbound(workspace, thread="t-a", customer="same").conversation
    b = inbound(workspace, thread="t-b", customer="same").conversation
    with transaction.atomic():
        dst = lifecycle.conversation_merge(actor=SYSTEM, source=a, target=b)
    assert dst.message_count == 2
    a.refresh_from_db()
    assert (a.status, a.merged_into_id) == (ConversationStatus.CLOSED, b.pk)
    assert Message.objects.filter(conversation=b).count() == 2


def test_bulk_resolve_is_one_transaction_with_one_row_each(workspace):
    convs = [conversation(workspace) for _ in range(3)]
    with transaction.atomic():
        lifecycle.conversations_bulk(
            actor=SYSTEM, workspace=workspace, conversation_ids=[c.public_id for c in convs], action="resolve"
        )
    assert Activity.objects.filter(kind="resolved", conversation__in=convs).count() == 3
    # an unknown id fails the whole call
    more = [conversation(workspace) for _ in range(2)]
    from carekit.core.errors import DomainError

    with pytest.raises(DomainError), transaction.atomic():
        lifecycle.conversations_bulk(
            actor=SYSTEM,
            workspace=workspace,
            conversation_ids=[more[0].public_id, "cnv_unknown", more[1].public_id],
            action="close",
        )
    assert set(Conversation.objects.filter(pk__in=[c.pk for c in more]).values_list("status", flat=True)) == {
        "open"
    }


def test_a_note_mentions_notify_the_agent(workspace):
    from carekit.core.realtime.models import Notification

    agent = add_member(workspace)
    conv = conversation(workspace)
    with transaction.atomic():
        note = services.note_add(
            actor=SYSTEM, conversation=conv, author_id="", text="please check", mentions=[agent.public_id]
        )
    assert note.mentions == [agent.public_id]
    assert (
        Notification.objects.filter(user_id=agent.user.public_id, kind="conversations.mentioned").count() == 1
    )


def test_customer_merge_moves_conversations(workspace):
    r1 = inbound(workspace, thread="x1", customer="c-1")
    r2 = inbound(workspace, thread="x2", customer="c-2")
    from carekit.customers.registry import MERGE_PROVIDERS, MergeContext

    ctx = MergeContext(workspace.pk, r1.conversation.customer_id, r2.conversation.customer_id, "mrg_1")
    with transaction.atomic():
        MERGE_PROVIDERS["conversations"].merge(ctx)
    assert Conversation.objects.get(pk=r2.conversation.pk).customer_id == r1.conversation.customer_id
    assert customers.customer(workspace.pk, r1.conversation.customer_id) is not None


def test_a_macro_replies_with_a_canned_response_raises_priority_and_resolves(workspace):
    conv = conversation(workspace)
    with transaction.atomic():
        canned = replies.canned_response_create(
            actor=SYSTEM, workspace=workspace, shortcut="bye", title="Bye", body="Closing {conversation.id}"
        )
        macro = replies.macro_create(
            actor=SYSTEM,
            workspace=workspace,
            name="Wrap up",
            actions=[
                {"type": "reply", "canned_id": canned.public_id},
                {"type": "priority", "value": "low"},
                {"type": "resolve"},
            ],
        )
    with transaction.atomic():
        done = replies.macro_apply(actor=SYSTEM, macro=macro, conversation=conv)
    assert (done.status, done.priority) == ("resolved", "low")
    assert (
        Message.objects.get(conversation=conv, direction=Direction.OUTBOUND).text
        == f"Closing {conv.public_id}"
    )


def test_a_macro_with_an_unknown_step_is_refused(workspace):
    from carekit.core.errors import DomainError

    with pytest.raises(DomainError), transaction.atomic():
        replies.macro_create(actor=SYSTEM, workspace=workspace, name="x", actions=[{"type": "delete_all"}])


def test_erasure_blanks_messages_notes_and_the_api_channels_delivery_bodies(workspace, settings, tmp_path):
    from carekit.conversations import providers
    from carekit.conversations.tests.routes import _channel
    from carekit.core.webhooks.models import WebhookDelivery

    settings.MEDIA_ROOT = str(tmp_path)
    ch = _channel(workspace)
    r = inbound(
        workspace,
        text="My address is 1 Main St",
        channel_ref=ch.public_id,
        attachments=(NewAttachment("id.png", "image/png", b"png"),),
    )
    conv = r.conversation
    with transaction.atomic():
        services.note_add(actor=SYSTEM, conversation=conv, author_id="", text="lives at 1 Main St")
        sent = services.message_send(actor=SYSTEM, conversation=conv, text="Got it, 1 Main St")
    from carekit.conversations.apichannel import ApiChannelSender
    from carekit.conversations.delivery import outbound_of

    ApiChannelSender().send(outbound_of(Message.objects.select_related("conversation").get(pk=sent.pk)))
    assert WebhookDelivery.objects.get(event_public_id=sent.public_id).payload["text"] == "Got it, 1 Main St"
    with transaction.atomic():
        providers.erase(workspace.pk, conv.customer_id)
        providers.erase_tasks(workspace.pk, conv.customer_id)
    assert set(Message.objects.filter(conversation=conv).values_list("text", flat=True)) == {"[erased]"}
    assert Attachment.objects.filter(message__conversation=conv).count() == 0
    assert conv.notes.get().text == "[erased]"
    assert WebhookDelivery.objects.get(event_public_id=sent.public_id).payload == {}
    conv.refresh_from_db()
    assert conv.thread_key == f"erased:{conv.public_id}"
