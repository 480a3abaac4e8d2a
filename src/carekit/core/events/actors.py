from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused a change: a user, an API token, a customer, the bot, or the system itself."""

    kind: str
    id: str = ""

    @classmethod
    def system(cls, name: str = "") -> Actor:
        return cls("system", name)

    @classmethod
    def of_user(cls, public_id: str) -> Actor:
        return cls("user", public_id)

    @classmethod
    def of_token(cls, public_id: str) -> Actor:
        return cls("token", public_id)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else self.kind
