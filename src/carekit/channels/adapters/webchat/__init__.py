"""The web chat widget: one script tag on the shop's pages, a websocket per visitor, an HTTP fallback.

Start here: `session.py` (what a visitor can do; both transports call it), `consumer.py` (the
websocket protocol), `push.py` (the outbound sender: agent replies reach the open widget), `tokens.py`
(the host site's signed token), `ratelimit.py`, `views.py` (the script, the HTTP fallback, the demo
shop page), `static/webchat/widget.js` (the widget itself, plain JavaScript, no build step),
`load.py` (many concurrent visitors over the real websocket, for benchmarks). Docs: docs/channels.md.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from carekit.channels.adapters import Adapter
from carekit.core.errors import DomainError


def _validate(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    origins = config.get("allowed_origins", [])
    if not isinstance(origins, list) or not all(
        isinstance(o, str) and o.startswith(("http://", "https://")) for o in origins
    ):
        raise DomainError(
            _("Allowed origins must be a list of http(s) origins."),
            field="config.allowed_origins",
            code="bad_origin",
        )
    for key in ("visitor_messages_per_minute", "ip_messages_per_minute"):
        if key in config and (
            not isinstance(config[key], int) or isinstance(config[key], bool) or config[key] < 1
        ):
            raise DomainError(
                _("A rate limit must be a positive whole number."), field=f"config.{key}", code="bad_limit"
            )
    if not isinstance(config.get("calendar_id", ""), str):
        raise DomainError(
            _("The calendar must be given by its id."), field="config.calendar_id", code="bad_calendar"
        )
    return config, secrets


def _register() -> None:
    from carekit.channels.adapters.webchat import push

    push.register()


ADAPTER = Adapter(
    kind="webchat",
    config_keys=(
        "allowed_origins",
        "calendar_id",
        "title",
        "color",
        "visitor_messages_per_minute",
        "ip_messages_per_minute",
    ),
    validate=_validate,
    register=_register,
)
