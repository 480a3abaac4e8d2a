"""Mail that lets a newly invited person choose a password (sent after commit)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from carekit.accounts.models import User
from carekit.core import outbound


def password_link(user: User, base_url: str | None = None) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    return f"{(base_url or settings.SITE_URL).rstrip('/')}{path}"


def send_invitation(user_id: int, workspace_name: str) -> outbound.SendResult:
    user = User.objects.get(pk=user_id)
    return outbound.send(
        outbound.OutboundMessage(
            workspace_id=None,
            channel="email",
            to=user.email,
            subject=_("You are invited to %(workspace)s on Carekit") % {"workspace": workspace_name},
            body=_("Choose your password to start:\n\n%(link)s") % {"link": password_link(user)},
            message_class=outbound.MessageClass.SERVICE,
        )
    )
