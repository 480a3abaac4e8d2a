"""Services behind the customer's own cabinet: sign-in codes, unsubscribe links, data exports.

Sign-in never reveals whether an address is known: the same answer either way, and a code goes out
only to an address a profile holds. Codes and addresses are stored as keyed digests.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core import outbound
from carekit.core.events import Actor, emit
from carekit.customers import normalize
from carekit.customers.enums import CustomerStatus, ExportStatus, IdentityKind
from carekit.customers.errors import InvalidValue
from carekit.customers.models import Customer, DataExport, Identity, PortalLogin

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 5
EXPORT_TTL = timedelta(days=7)
_UNSUB_SALT = "carekit.customers.unsubscribe"


def _digest(text: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


class RateLimited(InvalidValue):
    code = "rate_limited"
    status = 429


def sign_in_code_send(*, workspace_id: int, email: str, link_base: str = "") -> None:
    """Send a sign-in code (and a magic link under `link_base`) if a profile holds this email.

    The caller's answer is the same either way.
    """
    email = normalize.email(email)
    address = _digest(f"{workspace_id}:{email}")
    recent = PortalLogin.objects.filter(
        workspace_id=workspace_id, address_digest=address, created_at__gte=timezone.now() - timedelta(hours=1)
    ).count()
    if recent >= MAX_CODES_PER_HOUR:
        raise RateLimited(_("Too many codes requested; try again later."), field="email")
    ident = (
        Identity.objects.select_related("customer")
        .filter(workspace_id=workspace_id, kind=IdentityKind.EMAIL, value=email)
        .first()
    )
    customer = ident.customer if ident and ident.customer.status == CustomerStatus.ACTIVE else None
    code = f"{secrets.randbelow(10**6):06d}"
    link_secret = secrets.token_urlsafe(24)
    login = PortalLogin.objects.create(
        workspace_id=workspace_id,
        customer=customer,
        address_digest=address,
        code_digest=_digest(f"{address}:{code}"),
        link_digest=_digest(f"link:{link_secret}"),
        expires_at=timezone.now() + CODE_TTL,
    )
    if customer is None:
        return  # nothing goes out, but the attempt still counts towards the rate limit
    body = _("Your sign-in code: %(code)s. It is valid for 10 minutes.") % {"code": code}
    if link_base:
        body += "\n" + _("Or open this link: %(link)s") % {"link": f"{link_base}{login.pk}.{link_secret}"}
    message = outbound.OutboundMessage(
        workspace_id=workspace_id,
        channel="email",
        to=email,
        subject=_("Your sign-in code"),
        body=body,
        message_class=outbound.MessageClass.SERVICE,
    )
    transaction.on_commit(lambda: outbound.send(message))


def sign_in_code_check(*, workspace_id: int, email: str, code: str) -> str | None:
    """The customer id if the code is right for this email; counts a failed attempt otherwise."""
    try:
        email = normalize.email(email)
    except InvalidValue:
        return None
    address = _digest(f"{workspace_id}:{email}")
    login = (
        PortalLogin.objects.select_for_update()
        .filter(
            workspace_id=workspace_id,
            address_digest=address,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("-created_at")
        .first()
    )
    if login is None:
        return None
    if login.customer_id is None or not hmac.compare_digest(
        login.code_digest, _digest(f"{address}:{code.strip()}")
    ):
        PortalLogin.objects.filter(pk=login.pk).update(attempts=F("attempts") + 1)
        return None
    PortalLogin.objects.filter(pk=login.pk).update(used_at=timezone.now())
    customer = Customer.objects.get(pk=login.customer_id)
    return customer.public_id if customer.status == CustomerStatus.ACTIVE else None


def sign_in_link_check(*, workspace_id: int, token: str) -> str | None:
    """The customer id for an unused, unexpired magic link; the link works once."""
    pk, _sep, secret = token.partition(".")
    if not pk.isdigit() or not secret:
        return None
    login = (
        PortalLogin.objects.select_for_update()
        .filter(pk=int(pk), workspace_id=workspace_id, used_at__isnull=True, expires_at__gt=timezone.now())
        .exclude(link_digest="")
        .first()
    )
    if login is None or login.customer_id is None:
        return None
    if not hmac.compare_digest(login.link_digest, _digest(f"link:{secret}")):
        return None
    PortalLogin.objects.filter(pk=login.pk).update(used_at=timezone.now())
    customer = Customer.objects.get(pk=login.customer_id)
    return customer.public_id if customer.status == CustomerStatus.ACTIVE else None


# --- unsubscribe links ----------------------------------------------------------------------------


def unsubscribe_token(workspace_id: int, customer_id: str, channel: str) -> str:
    """Goes into every marketing message; works without signing in and does not expire."""
    return signing.dumps(
        {"w": workspace_id, "c": customer_id, "ch": channel}, salt=_UNSUB_SALT, compress=True
    )


def unsubscribe_read(token: str) -> tuple[int, str, str] | None:
    try:
        data = signing.loads(token, salt=_UNSUB_SALT)
        return int(data["w"]), str(data["c"]), str(data["ch"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


# --- exports --------------------------------------------------------------------------------------


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_request(*, actor: Actor, customer: Customer) -> DataExport:
    """Queue a data export; the file is built by a background job after commit."""
    from carekit.customers.tasks import build_export

    export = DataExport.objects.create(
        workspace_id=customer.workspace_id, customer=customer, expires_at=timezone.now() + EXPORT_TTL
    )
    emit(
        workspace_id=customer.workspace_id,
        type="customers.export.requested",
        subject_type="customer",
        subject_id=customer.public_id,
        actor=actor,
        payload={"customer_id": customer.public_id, "export_id": export.public_id},
    )
    transaction.on_commit(lambda: build_export(export.pk))
    return export


def _csv_of(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    keys = sorted({k for r in rows for k in r})
    writer = csv.DictWriter(out, fieldnames=keys)
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in r.items()}
        )
    return out.getvalue()


def export_build(*, export: DataExport) -> DataExport:
    """Write the zip: data.json with every context's section, and one CSV per list section."""
    from carekit.customers.privacy import customer_export_data

    if export.status != ExportStatus.PENDING:
        return export
    data = customer_export_data(export.workspace_id, export.customer.public_id)
    name = f"{export.public_id}-{secrets.token_hex(8)}.zip"
    with zipfile.ZipFile(export_dir() / name, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for provider, section in data.items():
            for key, value in section.items():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    zf.writestr(f"{provider}-{key}.csv", _csv_of(value))
    export.status = ExportStatus.READY
    export.file_name = name
    export.save(update_fields=["status", "file_name"])
    return export


def export_delete(*, export: DataExport) -> None:
    """Remove the file (after download, on expiry, on erasure); the row stays as a record."""
    if export.file_name:
        (export_dir() / export.file_name).unlink(missing_ok=True)
    DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.DELETED, file_name="")


def exports_expire() -> int:
    expired = list(DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=timezone.now()))
    for export in expired:
        export_delete(export=export)
    return len(expired)
