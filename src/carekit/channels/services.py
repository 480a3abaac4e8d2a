"""The one write path for channel instances: create, configure, rotate secrets, deactivate, and the
health and quarantine records adapters leave behind."""

from __future__ import annotations

import hmac
import secrets as pysecrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.channels import adapters
from carekit.channels.enums import ChannelKind
from carekit.channels.models import Channel, QuarantinedInput
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace

SIGNING = "signing"  # every channel has a signing secret: widget tokens, webhook secret headers
ROTATION_GRACE = timedelta(hours=24)
EXCERPT_BYTES = 4096
# The health timestamp is written at most this often per channel and process: a busy channel must not
# turn every inbound message into one more UPDATE of the same row.
HEALTH_WRITE_SECONDS = 10.0
_last_health_write: dict[tuple[int, str], float] = {}


def _emit(actor: Actor, channel: Channel, what: str, **payload: Any) -> None:
    emit(
        workspace_id=channel.workspace_id,
        type=f"channels.channel.{what}",
        subject_type="channel",
        subject_id=channel.public_id,
        actor=actor,
        payload={"channel_id": channel.public_id, "kind": channel.kind, **payload},
    )


def _checked(kind: str, config: dict[str, Any], secret_values: dict[str, Any]) -> tuple[dict, dict]:
    adapter = adapters.get(kind)
    unknown = sorted(set(config) - set(adapter.config_keys)) + sorted(
        set(secret_values) - set(adapter.secret_keys) - {SIGNING}
    )
    if unknown:
        raise DomainError(
            _("Unknown settings for this channel: %(keys)s.") % {"keys": ", ".join(unknown)},
            field="config",
            code="unknown_setting",
        )
    if adapter.validate:
        config, secret_values = adapter.validate(dict(config), dict(secret_values))
    return config, secret_values


def channel_create(
    *,
    actor: Actor,
    workspace: Workspace,
    kind: str,
    name: str,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> Channel:
    if kind not in ChannelKind.values:
        raise DomainError(_("Unknown channel kind."), field="kind", code="unknown_kind")
    if not name.strip():
        raise DomainError(_("The channel needs a name."), field="name")
    cfg, sec = _checked(kind, config or {}, secrets or {})
    sec.setdefault(SIGNING, pysecrets.token_urlsafe(32))
    channel = Channel.objects.create(
        workspace=workspace,
        kind=kind,
        name=name.strip()[:120],
        public_key=f"{kind[:2]}_{pysecrets.token_urlsafe(24)}",
        config=cfg,
        secrets=sec,
    )
    _emit(actor, channel, "created")
    return channel


def channel_update(
    *,
    actor: Actor,
    channel: Channel,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> Channel:
    """Partial update: given config keys replace stored ones; secrets are replaced only when given."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if name is not None:
        if not name.strip():
            raise DomainError(_("The channel needs a name."), field="name")
        channel.name = name.strip()[:120]
    merged_cfg = {**channel.config, **(config or {})}
    merged_sec = {**channel.secrets, **(secrets or {})}
    cfg_keys = set(adapters.get(channel.kind).config_keys)
    sec_keys = set(adapters.get(channel.kind).secret_keys)
    channel.config, checked_sec = _checked(
        channel.kind,
        {k: v for k, v in merged_cfg.items() if k in cfg_keys or k in (config or {})},
        {k: v for k, v in merged_sec.items() if k in sec_keys or k in (secrets or {})},
    )
    channel.secrets = {**checked_sec, SIGNING: merged_sec.get(SIGNING, "")}
    if is_active is not None:
        channel.is_active = is_active
    channel.save()
    _emit(actor, channel, "updated", is_active=channel.is_active)
    return channel


def channel_rotate_secret(*, actor: Actor, channel: Channel, at: datetime | None = None) -> str:
    """A new signing secret; the old one stays valid for ROTATION_GRACE so embedded tokens and
    provider webhooks can be switched without losing messages. Returns the new secret (shown once)."""
    at = at or timezone.now()
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    new = pysecrets.token_urlsafe(32)
    channel.previous_secrets = {SIGNING: channel.secrets.get(SIGNING, "")}
    channel.previous_valid_until = at + ROTATION_GRACE
    channel.secrets = {**channel.secrets, SIGNING: new}
    channel.save(update_fields=["secrets", "previous_secrets", "previous_valid_until"])
    _emit(actor, channel, "secret_rotated")
    return new


def signing_secrets(channel: Channel, *, at: datetime | None = None) -> list[str]:
    """The secrets a signature may be made with now: the current one, and the previous during grace."""
    at = at or timezone.now()
    out = [channel.secrets.get(SIGNING, "")]
    if channel.previous_valid_until and at < channel.previous_valid_until:
        out.append(channel.previous_secrets.get(SIGNING, ""))
    return [s for s in out if s]


def secret_matches(channel: Channel, given: str, *, at: datetime | None = None) -> bool:
    """Constant-time comparison of a presented secret (e.g. Telegram's secret-token header)."""
    return any(hmac.compare_digest(given.encode(), s.encode()) for s in signing_secrets(channel, at=at))


def note_inbound(channel: Channel, *, at: datetime | None = None) -> None:
    _note(channel, "last_inbound_at", at)


def note_outbound(channel: Channel, *, at: datetime | None = None) -> None:
    _note(channel, "last_outbound_at", at)


def _note(channel: Channel, column: str, at: datetime | None) -> None:
    key = (channel.pk, column)
    now = time.monotonic()
    if now - _last_health_write.get(key, -HEALTH_WRITE_SECONDS) < HEALTH_WRITE_SECONDS:
        return
    _last_health_write[key] = now
    Channel.objects.filter(pk=channel.pk).update(**{column: at or timezone.now()})


def note_error(channel: Channel, error: str, *, at: datetime | None = None) -> None:
    Channel.objects.filter(pk=channel.pk).update(last_error=error[:2000], last_error_at=at or timezone.now())


def quarantine(
    *, channel: Channel, reason: str, detail: str = "", raw: bytes | str = b""
) -> QuarantinedInput:
    """Keep refused input with its reason; the channel goes on working. Call in its own transaction
    when the refused input's own transaction rolls back."""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    row = QuarantinedInput.objects.create(
        workspace_id=channel.workspace_id,
        channel=channel,
        reason=reason[:60],
        detail=detail[:4000],
        size=len(data),
        excerpt=data[:EXCERPT_BYTES].decode("utf-8", "replace").replace("\x00", ""),
    )
    note_error(channel, f"{reason}: {detail}"[:2000])
    emit(
        workspace_id=channel.workspace_id,
        type="channels.input.quarantined",
        subject_type="channel",
        subject_id=channel.public_id,
        actor=Actor.system(f"channels.{channel.kind}"),
        payload={"channel_id": channel.public_id, "quarantine_id": row.public_id, "reason": row.reason},
    )
    return row


def cursor_get(channel: Channel, name: str) -> int:
    from carekit.channels.models import AdapterCursor

    row = AdapterCursor.objects.filter(channel=channel, name=name).values_list("value", flat=True).first()
    return int(row or 0)


def cursor_advance(channel: Channel, name: str, value: int) -> None:
    """Move a pull cursor forward (never back: a slow poller finishing late must not rewind it)."""
    from carekit.channels.models import AdapterCursor

    row, created = AdapterCursor.objects.get_or_create(
        channel=channel, name=name, defaults={"workspace_id": channel.workspace_id, "value": value}
    )
    if not created:
        AdapterCursor.objects.filter(pk=row.pk, value__lt=value).update(
            value=value, updated_at=timezone.now()
        )


def quarantine_dismiss(*, actor: Actor, item: QuarantinedInput) -> QuarantinedInput:
    """An admin has seen a held input and lets it go (it stays listed as dismissed)."""
    from carekit.channels.enums import QuarantineStatus

    if item.status != QuarantineStatus.HELD:
        return item
    item.status = QuarantineStatus.DISMISSED
    item.save(update_fields=["status"])
    emit(
        workspace_id=item.workspace_id,
        type="channels.input.dismissed",
        subject_type="channel",
        subject_id=item.channel.public_id,
        actor=actor,
        payload={"channel_id": item.channel.public_id, "quarantine_id": item.public_id},
    )
    return item
