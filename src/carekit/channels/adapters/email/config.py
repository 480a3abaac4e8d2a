"""A mailbox channel's settings: checked once when stored, read as a typed `Mailbox` everywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.utils.translation import gettext as _

from carekit.core.errors import DomainError

SECURITY = ("ssl", "starttls", "none")
AUTH = ("password", "xoauth2")
DEFAULT_MAX_BYTES = 25 * 1024 * 1024  # what most providers accept for one mail
DEFAULT_MAX_RECIPIENTS = 100

CONFIG_KEYS = (
    "address",
    "from_name",
    "plus_addressing",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_user",
    "imap_auth",
    "imap_mailbox",
    "imap_idle",
    "poll_seconds",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_auth",
    "oauth_token_url",
    "oauth_client_id",
    "oauth_scope",
    "timeout_seconds",
    "max_message_bytes",
    "max_recipients",
)
SECRET_KEYS = (
    "imap_password",
    "smtp_password",
    "oauth_access_token",
    "oauth_refresh_token",
    "oauth_client_secret",
)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    user: str
    auth: str
    password: str


@dataclass(frozen=True)
class Mailbox:
    address: str
    from_name: str
    plus_addressing: bool
    imap: Server | None
    smtp: Server | None
    mailbox: str
    idle: bool
    poll_seconds: int
    timeout: float
    max_bytes: int
    max_recipients: int

    @property
    def local_part(self) -> str:
        return self.address.rsplit("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


def _bad(message: str, key: str) -> DomainError:
    return DomainError(message, field=f"config.{key}", code="invalid_setting")


def _int(config: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(_("%(key)s must be a whole number.") % {"key": key}, key)
    try:
        number = int(value)
    except ValueError:
        raise _bad(_("%(key)s must be a whole number.") % {"key": key}, key) from None
    if not low <= number <= high:
        raise _bad(
            _("%(key)s must be between %(low)s and %(high)s.") % {"key": key, "low": low, "high": high}, key
        )
    return number


def _server(config: dict[str, Any], secrets: dict[str, Any], side: str) -> None:
    host = str(config.get(f"{side}_host", "")).strip()
    if not host:
        return
    config[f"{side}_host"] = host
    default_port = {"imap": 993, "smtp": 465}[side]
    config[f"{side}_port"] = _int(config, f"{side}_port", default_port, 1, 65535)
    security = config.setdefault(f"{side}_security", "ssl")
    if security not in SECURITY:
        raise _bad(_("Security must be one of: %(v)s.") % {"v": ", ".join(SECURITY)}, f"{side}_security")
    auth = config.setdefault(f"{side}_auth", "password")
    if auth not in AUTH:
        raise _bad(_("Authentication must be one of: %(v)s.") % {"v": ", ".join(AUTH)}, f"{side}_auth")
    config.setdefault(f"{side}_user", config["address"])
    if auth == "xoauth2" and not (
        secrets.get("oauth_access_token")
        or (
            secrets.get("oauth_refresh_token")
            and config.get("oauth_token_url")
            and config.get("oauth_client_id")
        )
    ):
        raise _bad(
            _("OAuth2 needs an access token, or a refresh token with the token URL and client id."),
            f"{side}_auth",
        )


def validate(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checks and normalises a mailbox's settings; raises DomainError with the offending key."""
    _name, address = parseaddr(str(config.get("address", "")))
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise _bad(_("The mailbox needs a valid email address."), "address")
    config["address"] = address.lower()
    config["plus_addressing"] = bool(config.get("plus_addressing", True))
    config["imap_idle"] = bool(config.get("imap_idle", True))
    config.setdefault("imap_mailbox", "INBOX")
    config["poll_seconds"] = _int(config, "poll_seconds", 60, 5, 3600)
    config["timeout_seconds"] = _int(config, "timeout_seconds", 30, 1, 300)
    config["max_message_bytes"] = _int(
        config, "max_message_bytes", DEFAULT_MAX_BYTES, 1024, 200 * 1024 * 1024
    )
    config["max_recipients"] = _int(config, "max_recipients", DEFAULT_MAX_RECIPIENTS, 1, 10_000)
    token_url = str(config.get("oauth_token_url", ""))
    if token_url and not token_url.startswith(("https://", "http://")):
        raise _bad(_("The token URL must be an http(s) URL."), "oauth_token_url")
    _server(config, secrets, "imap")
    _server(config, secrets, "smtp")
    return config, secrets


def mailbox(config: dict[str, Any], secrets: dict[str, Any]) -> Mailbox:
    def server(side: str) -> Server | None:
        if not config.get(f"{side}_host"):
            return None
        return Server(
            host=config[f"{side}_host"],
            port=int(config[f"{side}_port"]),
            security=config.get(f"{side}_security", "ssl"),
            user=config.get(f"{side}_user", config["address"]),
            auth=config.get(f"{side}_auth", "password"),
            password=str(secrets.get(f"{side}_password", "")),
        )

    return Mailbox(
        address=config["address"],
        from_name=str(config.get("from_name", "")),
        plus_addressing=bool(config.get("plus_addressing", True)),
        imap=server("imap"),
        smtp=server("smtp"),
        mailbox=str(config.get("imap_mailbox", "INBOX")),
        idle=bool(config.get("imap_idle", True)),
        poll_seconds=int(config.get("poll_seconds", 60)),
        timeout=float(config.get("timeout_seconds", 30)),
        max_bytes=int(config.get("max_message_bytes", DEFAULT_MAX_BYTES)),
        max_recipients=int(config.get("max_recipients", DEFAULT_MAX_RECIPIENTS)),
    )
