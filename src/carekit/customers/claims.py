"""Proof of identity: one-time codes for claims typed by anonymous visitors, and host-site tokens.

An email or phone typed by an anonymous visitor proves nothing; it only opens a pending claim. The
claim links the visitor to the profile that holds that contact only after the one-time code sent to
that contact is entered. A host site that has already signed the customer in vouches for them with a
token signed by the workspace's identity secret (HMAC-SHA256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.core import outbound
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers import normalize
from carekit.customers.enums import ClaimStatus, IdentityKind
from carekit.customers.models import Claim, Customer, Identity
from carekit.customers.services import customer_resolve, identity_link, region_of, settings_for

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_OPEN_CLAIMS_PER_HOUR = 5
# The channel a code for each identity kind goes through (a registered outbound sender).
CODE_CHANNEL = {IdentityKind.EMAIL: "email", IdentityKind.PHONE: "sms"}


class InvalidToken(DomainError):
    code = "invalid_token"
    status = 401


# --- host-site tokens -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def host_token_sign(secret: str, *, kind: str, value: str, ttl_seconds: int = 600) -> str:
    """What a host site computes (documented for integrators): base64url(claims) "." hex HMAC."""
    body = _b64(json.dumps({"kind": kind, "value": value, "exp": int(time.time()) + ttl_seconds}).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def host_token_verify(workspace_id: int, token: str) -> tuple[str, str]:
    """The (kind, value) a valid, unexpired token asserts; InvalidToken otherwise."""
    secret = settings_for(workspace_id).identity_secret
    body, _sep, mac = token.partition(".")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    if not mac or not hmac.compare_digest(mac, expected):
        raise InvalidToken(_("The identity token is not valid."), field="host_token")
    try:
        claims = json.loads(_unb64(body))
        kind, value, exp = str(claims["kind"]), str(claims["value"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise InvalidToken(_("The identity token is not valid."), field="host_token") from None
    if exp < time.time():
        raise InvalidToken(_("The identity token has expired."), field="host_token")
    return kind, value


# --- one-time codes -------------------------------------------------------------------------------


def _digest(claim_key: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{claim_key}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ClaimStarted:
    claim: Claim
    visitor: Customer


def claim_start(
    *,
    actor: Actor,
    workspace: Workspace,
    visitor_kind: str,
    visitor_value: str,
    kind: str,
    value: str,
    claimant: Customer | None = None,
) -> ClaimStarted:
    """Open a pending claim for a contact typed by an anonymous visitor and send it a one-time code.

    The visitor's own profile is resolved (or created) by its visitor identity; nothing of the
    profile that may hold `value` is linked, read or revealed until `claim_verify` succeeds.
    """
    region = region_of(workspace.pk)
    kind, value = normalize.identity(kind, value, region=region)
    channel = CODE_CHANNEL.get(IdentityKind(kind))
    if channel is None or channel not in outbound.registered_channels():
        raise DomainError(_("Codes cannot be sent to this kind of contact yet."), field="kind")
    # A caller that already knows the visitor's profile (the bot, in a conversation) passes it.
    visitor = (
        claimant
        or customer_resolve(actor=actor, workspace=workspace, kind=visitor_kind, value=visitor_value).customer
    )
    recent = Claim.objects.filter(
        workspace=workspace, claimant=visitor, created_at__gte=timezone.now() - timedelta(hours=1)
    ).count()
    if recent >= MAX_OPEN_CLAIMS_PER_HOUR:
        raise DomainError(_("Too many codes requested; try again later."), code="rate_limited")
    code = f"{secrets.randbelow(10**6):06d}"
    key = secrets.token_hex(8)
    claim = Claim.objects.create(
        workspace=workspace,
        claimant=visitor,
        kind=kind,
        value=value,
        code_digest=f"{key}${_digest(key, code)}",
        expires_at=timezone.now() + CODE_TTL,
    )
    emit(
        workspace_id=workspace.pk,
        type="customers.claim.started",
        subject_type="customer",
        subject_id=visitor.public_id,
        actor=actor,
        payload={"claim_id": claim.public_id, "customer_id": visitor.public_id, "kind": kind},
    )
    message = outbound.OutboundMessage(
        workspace_id=workspace.pk,
        channel=channel,
        to=value,
        subject=_("Your confirmation code"),
        body=_("Your confirmation code: %(code)s. It is valid for 10 minutes.") % {"code": code},
        message_class=outbound.MessageClass.SERVICE,
        idempotency_key=claim.public_id,
    )
    # The code is never stored in clear, so it cannot be a job argument; it leaves after commit.
    transaction.on_commit(lambda: outbound.send(message))
    return ClaimStarted(claim, visitor)


@dataclass(frozen=True)
class Verified:
    customer: Customer | None  # the profile the visitor now belongs to; None when the code failed
    error: str = ""  # wrong_code | expired | used
    message: str = ""


def claim_verify(*, actor: Actor, workspace: Workspace, claim: Claim, code: str) -> Verified:
    """Check the code; on success the visitor joins the profile that holds the contact (or gains it).

    A failure is returned, not raised, because the attempt it counts must be committed: a wrong code
    counts an attempt and changes nothing else; after MAX_ATTEMPTS the claim fails for good.
    """
    from carekit.customers.merge import customer_merge

    claim = Claim.objects.select_for_update().get(pk=claim.pk, workspace=workspace)
    if claim.status != ClaimStatus.PENDING:
        return Verified(None, "used", _("This code can no longer be used."))
    if claim.expires_at <= timezone.now():
        Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.EXPIRED)
        return Verified(None, "expired", _("This code has expired."))
    key, _sep, digest = claim.code_digest.partition("$")
    if not hmac.compare_digest(digest, _digest(key, code.strip())):
        attempts = claim.attempts + 1
        Claim.objects.filter(pk=claim.pk).update(
            attempts=F("attempts") + 1,
            status=ClaimStatus.FAILED if attempts >= MAX_ATTEMPTS else ClaimStatus.PENDING,
        )
        return Verified(None, "wrong_code", _("The code is not correct."))
    Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.VERIFIED)
    visitor = claim.claimant
    holder = (
        Identity.objects.select_related("customer")
        .filter(workspace=workspace, kind=claim.kind, value=claim.value)
        .first()
    )
    if holder is None:
        identity_link(actor=actor, customer=visitor, kind=claim.kind, value=claim.value, verified=True)
        survivor = visitor
    elif holder.customer_id == visitor.pk:
        Identity.objects.filter(pk=holder.pk).update(verified=True)
        survivor = visitor
    else:
        Identity.objects.filter(pk=holder.pk).update(verified=True)
        survivor = holder.customer
        customer_merge(actor=actor, survivor=survivor, merged=visitor, reason="claim_verified")
    emit(
        workspace_id=workspace.pk,
        type="customers.claim.verified",
        subject_type="customer",
        subject_id=survivor.public_id,
        actor=actor,
        payload={"claim_id": claim.public_id, "customer_id": survivor.public_id, "kind": claim.kind},
    )
    return Verified(survivor)
