"""Domain events as a transactional outbox.

`emit()` writes the event and one delivery row per subscribed handler in the caller's transaction;
after commit the delivery ids are enqueued as a job. Workers claim deliveries with a lease, run the
handler and mark the delivery done in one transaction, so a handler's effects happen exactly once.
A periodic sweeper recovers deliveries whose worker died and deliveries whose enqueue was lost.
"""

from carekit.core.events.actors import Actor
from carekit.core.events.registry import HandlerInfo, handlers_for, subscribe
from carekit.core.events.writer import EventSpec, emit, emit_many

__all__ = ["Actor", "EventSpec", "HandlerInfo", "emit", "emit_many", "handlers_for", "subscribe"]
