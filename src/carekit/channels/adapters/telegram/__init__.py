"""Telegram: the Bot API in webhook mode (secret-token header) or getUpdates mode; text, photos,
documents, reply keyboards for quick replies, deep links that link a verified identity."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from carekit.channels.adapters import Adapter
from carekit.core.errors import DomainError

TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,80}$")
MODES = ("webhook", "polling")


def _validate(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    mode = str(config.get("mode") or "webhook")
    if mode not in MODES:
        raise DomainError(_("The mode is webhook or polling."), field="config.mode", code="bad_setting")
    config["mode"] = mode
    for key in ("api_base_url", "webhook_base_url"):
        value = str(config.get(key) or "").strip()
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise DomainError(
                _("%(key)s must be an http(s) address.") % {"key": key},
                field=f"config.{key}",
                code="bad_setting",
            )
        if value:
            config[key] = value.rstrip("/")
        else:
            config.pop(key, None)
    if "bot_username" in config:
        config["bot_username"] = str(config["bot_username"] or "").strip().lstrip("@")[:64]
    token = str(secrets.get("bot_token") or "").strip()
    if not TOKEN_RE.match(token):
        raise DomainError(
            _("The bot token looks like 123456:ABC-DEF... (from @BotFather)."),
            field="secrets.bot_token",
            code="bad_setting",
        )
    secrets["bot_token"] = token
    return config, secrets


def _register() -> None:
    from carekit.channels.adapters.telegram import jobs  # noqa: F401  (periodic job)
    from carekit.channels.adapters.telegram.sender import TelegramSender
    from carekit.core import outbound

    if "telegram" not in outbound.registered_channels():
        outbound.register_sender(TelegramSender())


ADAPTER = Adapter(
    kind="telegram",
    config_keys=("mode", "bot_username", "api_base_url", "webhook_base_url"),
    secret_keys=("bot_token",),
    validate=_validate,
    register=_register,
)
