"""The bot's event consumers: it answers customer messages after commit, notices reopened
conversations (containment) and turns agent-resolved hand-offs into suggested training examples.
Each runs once per event (core outbox) and is idempotent by the bot's own rows besides."""

from __future__ import annotations

from datetime import timedelta

from carekit.bot import dialogues, public
from carekit.bot.enums import DialogueState
from carekit.bot.models import Dialogue
from carekit.conversations import public as conversations
from carekit.core.events import subscribe
from carekit.core.models import Event

# A bot resolution counts as containment only if the customer does not come back within this window.
REOPEN_WINDOW = timedelta(hours=72)


@subscribe(
    "conversations.message.received",
    name="bot.on_message_received",
    wants=lambda workspace_id, _type: dialogues.bot_on_anywhere(workspace_id),
)
def on_message_received(event: Event) -> None:
    dialogues.handle(event.workspace_id, str(event.payload.get("message_id", "")))


@subscribe("conversations.conversation.reopened", name="bot.on_conversation_reopened")
def on_conversation_reopened(event: Event) -> None:
    Dialogue.objects.filter(
        workspace_id=event.workspace_id,
        conversation_id=event.subject_id,
        resolved_by_bot=True,
        resolved_at__gte=event.occurred_at - REOPEN_WINDOW,
    ).update(reopened=True)


@subscribe("conversations.conversation.resolved", name="bot.on_conversation_resolved")
def on_conversation_resolved(event: Event) -> None:
    """A person resolved a conversation the bot handed off: its first customer message, labelled with
    the bot's best guess, waits for review as a training example."""
    d = Dialogue.objects.filter(
        workspace_id=event.workspace_id, conversation_id=event.subject_id, state=DialogueState.HANDED_OFF
    ).first()
    if d is None:
        return
    texts = [
        t for t in conversations.customer_texts(event.workspace_id, d.conversation_id, limit=1) if t.strip()
    ]
    guess = next((t["intent"] for t in d.turns if not t.get("out_of_scope")), "out_of_scope")
    for text in texts:
        public.suggest_example(
            actor=dialogues.ACTOR, workspace_id=event.workspace_id, text=text[:1000], intent=guess
        )
