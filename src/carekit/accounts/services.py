"""Every write to accounts goes through these functions (keyword-only, with `actor=`).

They run inside the caller's transaction (the entry point opens it) and emit domain events there.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from carekit.accounts.enums import Role
from carekit.accounts.models import ApiToken, Membership, SignInThrottle, Team, TeamMember, TotpDevice, User
from carekit.accounts.permissions import grants, is_known
from carekit.core.errors import Conflict, DomainError, NotAllowed
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace


class AccountsError(DomainError):
    code = "invalid"


def _event(ws: Workspace, type_: str, subject: str, subject_id: str, actor: Actor, **payload: object) -> None:
    emit(
        workspace_id=ws.pk,
        type=type_,
        subject_type=subject,
        subject_id=subject_id,
        actor=actor,
        payload=payload,
    )


# --- users and workspaces ---------------------------------------------------------------------------


def user_create(
    *,
    actor: Actor,
    email: str,
    password: str | None,
    full_name: str = "",
    language: str = "en",
    operator: bool = False,
) -> User:
    """Create a user; `operator=True` also opens Django admin (platform operators only)."""
    email = email.strip().lower()
    validate_email(email)
    user = User(
        username=email,
        email=email,
        full_name=full_name,
        language=language,
        is_staff=operator,
        is_superuser=operator,
    )
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict("A user with this email already exists.", field="email") from None
    return user


def workspace_create(*, actor: Actor, name: str, owner: User, slug: str = "") -> Workspace:
    ws = Workspace(name=name.strip(), slug=slug or slugify(name)[:60] or secrets.token_hex(4))
    try:
        with transaction.atomic():
            ws.save()
    except IntegrityError:
        raise Conflict("This workspace address is taken.", field="slug") from None
    membership = Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
    _event(ws, "accounts.workspace.created", "workspace", ws.public_id, actor)
    _event(ws, "accounts.member.added", "member", membership.public_id, actor, role=Role.OWNER)
    return ws


def workspace_update(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str | None = None,
    default_language: str | None = None,
    time_zone: str | None = None,
) -> Workspace:
    import zoneinfo

    changed = []
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": "A workspace needs a name."})
        workspace.name = name.strip()
        changed.append("name")
    if default_language is not None:
        if default_language not in {code for code, _ in settings.LANGUAGES}:
            raise ValidationError({"default_language": f"Unsupported language {default_language!r}."})
        workspace.default_language = default_language
        changed.append("default_language")
    if time_zone is not None:
        if time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"timezone": f"Unknown time zone {time_zone!r}."})
        workspace.time_zone = time_zone
        changed.append("time_zone")
    if changed:
        workspace.save(update_fields=changed)
        _event(
            workspace, "accounts.workspace.updated", "workspace", workspace.public_id, actor, fields=changed
        )
    return workspace


def member_invite(
    *, actor: Actor, workspace: Workspace, email: str, role: str, full_name: str = ""
) -> Membership:
    """Add a person by email: an existing user joins; a new one is created without a password.

    The caller sends the "choose your password" mail after commit (see accounts.api.invite_member).
    """
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        user = user_create(actor=actor, email=email, password=None, full_name=full_name)
    return member_add(actor=actor, workspace=workspace, user=user, role=role)


def workspace_set_two_factor(*, actor: Actor, workspace: Workspace, required: bool) -> Workspace:
    workspace.require_two_factor = required
    workspace.save(update_fields=["require_two_factor"])
    _event(
        workspace,
        "accounts.workspace.two_factor_changed",
        "workspace",
        workspace.public_id,
        actor,
        required=required,
    )
    return workspace


def member_add(*, actor: Actor, workspace: Workspace, user: User, role: str) -> Membership:
    role = Role(role)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    except IntegrityError:
        raise Conflict("This user is already a member.", field="user") from None
    _event(workspace, "accounts.member.added", "member", membership.public_id, actor, role=role)
    return membership


def _owners_left(workspace: Workspace, excluding: Membership) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).exclude(pk=excluding.pk).count()


def member_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    role = Role(role)
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and not _owners_left(membership.workspace, membership)
    ):
        raise Conflict("A workspace keeps at least one owner.", field="role")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _event(
        membership.workspace,
        "accounts.member.role_changed",
        "member",
        membership.public_id,
        actor,
        old=old,
        new=role,
    )
    return membership


def member_remove(*, actor: Actor, membership: Membership) -> None:
    if membership.role == Role.OWNER and not _owners_left(membership.workspace, membership):
        raise Conflict("A workspace keeps at least one owner.")
    ws, public_id = membership.workspace, membership.public_id
    membership.delete()
    _event(ws, "accounts.member.removed", "member", public_id, actor)


# --- teams ------------------------------------------------------------------------------------------


def team_create(*, actor: Actor, workspace: Workspace, name: str) -> Team:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A team needs a name."})
    try:
        with transaction.atomic():
            team = Team.objects.create(workspace=workspace, name=name)
    except IntegrityError:
        raise Conflict("A team with this name exists.", field="name") from None
    _event(workspace, "accounts.team.created", "team", team.public_id, actor)
    return team


def team_add_member(*, actor: Actor, team: Team, membership: Membership) -> None:
    if membership.workspace_id != team.workspace_id:
        raise AccountsError("The member belongs to another workspace.", field="member_id")
    _, created = TeamMember.objects.get_or_create(
        workspace_id=team.workspace_id, team=team, membership=membership
    )
    if created:
        _event(
            team.workspace,
            "accounts.team.member_added",
            "team",
            team.public_id,
            actor,
            member=membership.public_id,
        )


def team_remove_member(*, actor: Actor, team: Team, membership: Membership) -> None:
    deleted, _ = TeamMember.objects.filter(team=team, membership=membership).delete()
    if deleted:
        _event(
            team.workspace,
            "accounts.team.member_removed",
            "team",
            team.public_id,
            actor,
            member=membership.public_id,
        )


# --- API tokens -------------------------------------------------------------------------------------

TOKEN_PREFIX = "ck"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def api_token_create(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    scopes: list[str],
    held_scopes: frozenset[str],
    created_by: User | None,
) -> IssuedToken:
    """Issue a token; it may carry only scopes its creator holds. The secret is returned once."""
    unknown = [s for s in scopes if not is_known(s)]
    if unknown:
        raise AccountsError(f"Unknown scopes: {', '.join(unknown)}", field="scopes")
    beyond = [s for s in scopes if not grants(held_scopes, s) or (s.endswith("*") and "*" not in held_scopes)]
    if beyond:
        raise NotAllowed(f"You cannot grant scopes you do not hold: {', '.join(beyond)}", field="scopes")
    if not name.strip():
        raise ValidationError({"name": "A token needs a name."})
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        workspace=workspace,
        name=name.strip(),
        prefix=prefix,
        digest=_digest(raw),
        scopes=sorted(set(scopes)),
        created_by=created_by,
    )
    _event(workspace, "accounts.token.created", "token", token.public_id, actor, scopes=token.scopes)
    return IssuedToken(token, raw)


def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _event(token.workspace, "accounts.token.revoked", "token", token.public_id, actor)
        token_id = token.pk
        transaction.on_commit(lambda: _forget_token(token_id))
    return token


def _forget_token(token_id: int) -> None:
    from carekit.accounts.principals import forget_token

    forget_token(token_id)


def api_token_check(raw: str) -> ApiToken | None:
    """The live token for a presented secret, or None. Stamps last use at most once a minute."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    digest = _digest(raw)
    token = (
        ApiToken.objects.select_related("workspace")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .only("id", "public_id", "digest", "scopes", "last_used_at", "workspace__id", "workspace__public_id")
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, digest):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# --- sign-in protection -----------------------------------------------------------------------------


def _throttle_key(login: str) -> str:
    return login.strip().lower()[:254]


def sign_in_locked(login: str) -> bool:
    row = SignInThrottle.objects.filter(key=_throttle_key(login)).first()
    return bool(row and row.locked_until and row.locked_until > timezone.now())


def sign_in_failed(login: str) -> None:
    """Count a failure; after LOGIN_LOCKOUT_FAILURES inside the window the key locks for the window."""
    key, now = _throttle_key(login), timezone.now()
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    row, _ = SignInThrottle.objects.select_for_update().get_or_create(key=key)
    if row.first_failure_at is None or now - row.first_failure_at > window:
        SignInThrottle.objects.filter(pk=row.pk).update(failures=1, first_failure_at=now, locked_until=None)
        return
    SignInThrottle.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
    row.refresh_from_db(fields=["failures"])
    if row.failures >= settings.LOGIN_LOCKOUT_FAILURES:
        SignInThrottle.objects.filter(pk=row.pk).update(locked_until=now + window)


def sign_in_succeeded(login: str) -> None:
    SignInThrottle.objects.filter(key=_throttle_key(login)).delete()


# --- two-factor (TOTP) ------------------------------------------------------------------------------


def totp_begin(*, actor: Actor, user: User) -> TotpDevice:
    device, _ = TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": pyotp.random_base32(), "confirmed_at": None, "last_used_step": 0}
    )
    return device


def totp_verify(*, user: User, code: str) -> bool:
    """Check a code once: a code already used (same 30 s step or earlier) is refused."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return False
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    for drift in (0, -1, 1):
        step = int(now.timestamp()) // 30 + drift
        if hmac.compare_digest(totp.at(step * 30), code.strip()) and step > device.last_used_step:
            TotpDevice.objects.filter(pk=device.pk).update(last_used_step=step)
            return True
    return False


def totp_confirm(*, actor: Actor, user: User, code: str) -> bool:
    if not totp_verify(user=user, code=code):
        return False
    TotpDevice.objects.filter(user=user).update(confirmed_at=timezone.now())
    return True


def has_confirmed_totp(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
