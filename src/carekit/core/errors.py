"""The base of every domain error. The API maps it to the error envelope; the UI shows its message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid"
    status = 400

    def __init__(
        self, message: str, *, field: str | None = None, details: Any = None, code: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code:
            self.code = code


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403
