"""Domain errors of the inbox (the API maps them to the error envelope by their status and code)."""

from __future__ import annotations

from carekit.core.errors import Conflict, DomainError


class NotFound(DomainError):
    code = "not_found"
    status = 404


class AttachmentRefused(DomainError):
    code = "attachment_refused"
    status = 422


class ConversationClosed(Conflict):
    code = "conversation_closed"
