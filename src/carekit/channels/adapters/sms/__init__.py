"""SMS through a generic HTTP gateway: URL, method, auth header and a payload template with {to},
{text} and {sender}. Outbound only: one-time codes of customers' claims, callback offers, replies."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from carekit.channels.adapters import Adapter
from carekit.core.errors import DomainError

DEFAULT_TEMPLATE = '{"to": "{to}", "text": "{text}", "from": "{sender}"}'
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")
METHODS = ("POST", "GET")


def _validate(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    url = str(config.get("url") or "").strip()
    if not re.match(r"^https?://[^\s/]+", url):
        raise DomainError(
            _("The gateway URL must be an http(s) address."), field="config.url", code="bad_setting"
        )
    config["url"] = url
    method = str(config.get("method") or "POST").upper()
    if method not in METHODS:
        raise DomainError(_("The method is POST or GET."), field="config.method", code="bad_setting")
    config["method"] = method
    ctype = str(config.get("content_type") or CONTENT_TYPES[0])
    if ctype not in CONTENT_TYPES:
        raise DomainError(
            _("The payload type is application/json or application/x-www-form-urlencoded."),
            field="config.content_type",
            code="bad_setting",
        )
    config["content_type"] = ctype
    template = str(config.get("payload_template") or DEFAULT_TEMPLATE)
    if "{to}" not in template or "{text}" not in template:
        raise DomainError(
            _("The payload template must contain {to} and {text}."),
            field="config.payload_template",
            code="bad_setting",
        )
    config["payload_template"] = template
    header = str(config.get("auth_header") or "").strip()
    if header and not re.match(r"^[A-Za-z0-9-]{1,60}$", header):
        raise DomainError(
            _("The auth header is a header name."), field="config.auth_header", code="bad_setting"
        )
    config["auth_header"] = header
    config["sender"] = str(config.get("sender") or "").strip()[:20]
    return config, secrets


def _register() -> None:
    from carekit.channels.adapters.sms.sender import SmsSender
    from carekit.core import outbound

    if "sms" not in outbound.registered_channels():
        outbound.register_sender(SmsSender())


ADAPTER = Adapter(
    kind="sms",
    config_keys=("url", "method", "content_type", "payload_template", "auth_header", "sender"),
    secret_keys=("auth_value",),
    validate=_validate,
    register=_register,
)
