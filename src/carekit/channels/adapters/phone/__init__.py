"""Phone calls: posted by a telephony system (signed webhook) or through the API, or logged by agents.
A call becomes a conversation message (inbound) or note (outbound); a missed call opens a callback task
due within the channel's callback SLA; an answered call back to the customer completes it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from carekit.channels.adapters import Adapter
from carekit.core.errors import DomainError

DEFAULT_CALLBACK_MINUTES = 60


def _validate(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = config.get("callback_sla_minutes", DEFAULT_CALLBACK_MINUTES)
    try:
        minutes = int(raw)
    except (TypeError, ValueError):
        minutes = -1
    if not 1 <= minutes <= 7 * 24 * 60:
        raise DomainError(
            _("The callback time is a number of minutes between 1 and 10080."),
            field="config.callback_sla_minutes",
            code="bad_setting",
        )
    config["callback_sla_minutes"] = minutes
    if "number" in config:
        config["number"] = str(config["number"] or "").strip()[:32]
    return config, secrets


def _register() -> None:
    from carekit.channels.adapters.phone.offers import PhoneSender
    from carekit.core import outbound

    if "phone" not in outbound.registered_channels():
        outbound.register_sender(PhoneSender())


ADAPTER = Adapter(
    kind="phone",
    config_keys=("number", "callback_sla_minutes"),
    validate=_validate,
    register=_register,
)
