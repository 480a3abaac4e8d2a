"""A recording double for core's outbound sender registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from carekit.core import outbound


class RecordingSender:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[outbound.OutboundMessage] = []

    def send(self, message: outbound.OutboundMessage) -> outbound.SendResult:
        self.sent.append(message)
        return outbound.SendResult(ok=True, provider_id=f"rec-{len(self.sent)}")


@contextmanager
def recording(channel: str = "email") -> Iterator[RecordingSender]:
    previous = outbound._SENDERS.get(channel)
    recorder = RecordingSender(channel)
    outbound.register_sender(recorder, replace=True)
    try:
        yield recorder
    finally:
        if previous is None:
            outbound._SENDERS.pop(channel, None)
        else:
            outbound.register_sender(previous, replace=True)
