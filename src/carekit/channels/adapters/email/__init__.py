"""The email channel: a mailbox read by IMAP (IDLE or polling) or fed raw MIME by an inbound webhook,
answered by SMTP in the customer's thread. Start with `intake.py` (one raw mail in), `smtp.py` (one
reply out) and `threads.py` (which conversation a mail belongs to). See docs/channels.md, "Email"."""

from __future__ import annotations

from carekit.channels.adapters import Adapter
from carekit.channels.adapters.email.config import CONFIG_KEYS, SECRET_KEYS, validate


def register() -> None:
    from carekit.channels.adapters.email import details, erasure, jobs, smtp  # noqa: F401  (jobs: the poll)

    smtp.register()
    details.register()
    erasure.register()


ADAPTER = Adapter(
    kind="email", config_keys=CONFIG_KEYS, secret_keys=SECRET_KEYS, validate=validate, register=register
)
