"""Inbound by IMAP: read each new UID once (per UIDVALIDITY), hand the raw mail to the intake, and wait
with IDLE where the server offers it, polling otherwise.

The cursor moves after each mail's intake committed; a crash in between re-reads that one mail, which
the intake recognises by its Message-ID. A mail larger than the channel's limit is quarantined from its
headers alone, without downloading it.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django import db
from django.db import transaction
from django.utils import timezone

from carekit.channels import services
from carekit.channels.adapters.email import intake, oauth
from carekit.channels.adapters.email.config import Mailbox, mailbox
from carekit.channels.models import Channel, ImapCursor

logger = logging.getLogger(__name__)
IDLE_MAX_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class FetchReport:
    seen: int = 0
    dispositions: dict[str, int] = field(default_factory=dict)

    def add(self, disposition: str) -> None:
        self.seen += 1
        self.dispositions[disposition] = self.dispositions.get(disposition, 0) + 1


def connect(channel: Channel, box: Mailbox) -> imaplib.IMAP4:
    server = box.imap
    if server is None:
        raise imaplib.IMAP4.error("no IMAP server configured")
    if server.security == "ssl":
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            server.host, server.port, ssl_context=ssl.create_default_context(), timeout=box.timeout
        )
    else:
        conn = imaplib.IMAP4(server.host, server.port, timeout=box.timeout)
        if server.security == "starttls":
            conn.starttls(ssl_context=ssl.create_default_context())
    if server.auth == "xoauth2":
        token = oauth.provider_for(channel.config, channel.secrets).token()
        conn.authenticate("XOAUTH2", lambda _challenge: oauth.xoauth2(server.user, token).encode())
    else:
        conn.login(server.user, server.password)
    return conn


def _uidvalidity(conn: imaplib.IMAP4) -> int:
    _typ, data = conn.response("UIDVALIDITY")
    value = data[0] if data else None
    return int(value) if value else 0


def _cursor(channel: Channel, box: Mailbox) -> ImapCursor:
    with transaction.atomic(durable=True):
        cursor, _created = ImapCursor.objects.get_or_create(
            channel=channel, mailbox=box.mailbox, defaults={"workspace_id": channel.workspace_id}
        )
    return cursor


def _advance(cursor: ImapCursor, *, uidvalidity: int, uid: int) -> None:
    with transaction.atomic(durable=True):
        ImapCursor.objects.filter(pk=cursor.pk).update(
            uidvalidity=uidvalidity, last_uid=uid, updated_at=timezone.now()
        )
    cursor.uidvalidity, cursor.last_uid = uidvalidity, uid


def fetch_new(channel: Channel, conn: imaplib.IMAP4 | None = None) -> FetchReport:
    """Read every mail after the cursor once; opens (and closes) a connection unless one is given."""
    box = mailbox(channel.config, channel.secrets)
    own = conn is None
    conn = conn or connect(channel, box)
    report = FetchReport()
    try:
        typ, _data = conn.select(_quoted(box.mailbox), readonly=True)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot select {box.mailbox}")
        validity = _uidvalidity(conn)
        cursor = _cursor(channel, box)
        if cursor.uidvalidity != validity:
            # The mailbox was rebuilt: UIDs mean new mails now. Re-reading is safe (Message-ID dedupe).
            _advance(cursor, uidvalidity=validity, uid=0)
        _typ, data = conn.uid("SEARCH", f"UID {cursor.last_uid + 1}:*")
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > cursor.last_uid)
        for uid in uids:
            report.add(_one(channel, box, conn, uid).disposition)
            _advance(cursor, uidvalidity=validity, uid=uid)
    finally:
        if own:
            _logout(conn)
    return report


def _one(channel: Channel, box: Mailbox, conn: imaplib.IMAP4, uid: int) -> intake.IntakeResult:
    _typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE)")
    match = _SIZE_RE.search(b" ".join(x if isinstance(x, bytes) else b" ".join(x) for x in data if x))
    size = int(match.group(1)) if match else 0
    if size > box.max_bytes:
        _typ, head = conn.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])")
        header = next((x[1] for x in head if isinstance(x, tuple)), b"")
        return intake.refuse(
            channel, "message_too_large", f"{size} bytes; the limit is {box.max_bytes}", header
        )
    _typ, body = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    raw = next((x[1] for x in body if isinstance(x, tuple)), b"")
    return intake.receive_raw(channel, raw)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.logout()


def idle(conn: imaplib.IMAP4, seconds: float, stop: threading.Event | None = None) -> bool:
    """RFC 2177 IDLE until the server reports new mail (True) or `seconds` pass (False).

    imaplib (before Python 3.14) has no IDLE; this speaks it on imaplib's own connection, using its
    private tag counter so the tags stay in sequence with imaplib's commands.
    """
    tag = conn._new_tag()  # imaplib's private tag counter; see the docstring
    conn.send(tag + b" IDLE\r\n")
    if not conn.readline().startswith(b"+"):
        raise imaplib.IMAP4.error("IDLE refused")
    sock = conn.socket()
    before = sock.gettimeout()
    news = False
    slice_seconds = 1.0
    waited = 0.0
    try:
        sock.settimeout(slice_seconds)
        while waited < seconds and not (stop and stop.is_set()):
            try:
                line = conn.readline()
            except TimeoutError:
                waited += slice_seconds
                continue
            if not line:
                raise imaplib.IMAP4.abort("connection closed during IDLE")
            if re.match(rb"\* \d+ (EXISTS|RECENT)", line):
                news = True
                break
    finally:
        sock.settimeout(before)
        conn.send(b"DONE\r\n")
        while True:
            line = conn.readline()
            if not line or line.startswith(tag):
                break
    return news


def watch(
    channel_id: int,
    stop: threading.Event,
    *,
    on_report: Callable[[FetchReport], None] | None = None,
    error_backoff: float = 30.0,
) -> None:
    """Fetch, then wait (IDLE or poll), until `stop` is set; errors are noted on the channel and retried.
    Runs in a thread of its own, whose database connection it closes at the end."""
    try:
        _watch(channel_id, stop, on_report, error_backoff)
    finally:
        db.connections.close_all()


def _watch(
    channel_id: int,
    stop: threading.Event,
    on_report: Callable[[FetchReport], None] | None,
    error_backoff: float,
) -> None:
    while not stop.is_set():
        channel = Channel.objects.get(pk=channel_id)
        box = mailbox(channel.config, channel.secrets)
        conn: imaplib.IMAP4 | None = None
        try:
            conn = connect(channel, box)
            use_idle = box.idle and "IDLE" in conn.capabilities
            while not stop.is_set():
                report = fetch_new(channel, conn)
                if on_report:
                    on_report(report)
                if use_idle:
                    idle(conn, min(box.poll_seconds * 10, IDLE_MAX_SECONDS), stop)
                else:
                    stop.wait(box.poll_seconds)
        except (imaplib.IMAP4.error, OSError, oauth.OAuthError) as exc:
            logger.warning("IMAP for channel %s: %s", channel.public_id, exc)
            with transaction.atomic(durable=True):
                services.note_error(channel, f"IMAP: {type(exc).__name__}: {exc}")
            stop.wait(error_backoff)
        finally:
            if conn is not None:
                _logout(conn)
