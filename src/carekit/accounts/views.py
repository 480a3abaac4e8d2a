"""Sign-in, sign-out, password reset and two-factor pages. Writes go through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carekit.accounts import selectors, services
from carekit.accounts.models import TotpDevice, User
from carekit.accounts.principals import SESSION_WORKSPACE_KEY, TWO_FACTOR_OK_KEY
from carekit.core import outbound
from carekit.core.events import Actor

PENDING_2FA_KEY = "carekit_pending_2fa_user"


class LoginForm(forms.Form):
    email = forms.CharField(label="Email", max_length=254)
    password = forms.CharField(label="Password", widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=8, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )


class ResetRequestForm(forms.Form):
    email = forms.EmailField(label="Email")


def _safe_next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return reverse("home")


def _needs_two_factor(user: User) -> bool:
    return services.has_confirmed_totp(user) or any(
        w.require_two_factor for w in selectors.workspaces_of(user)
    )


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        with transaction.atomic(durable=True):
            if services.sign_in_locked(email):
                error = _("Too many failed attempts. Try again in %(minutes)s minutes.") % {
                    "minutes": settings.LOGIN_LOCKOUT_MINUTES
                }
                user = None
            else:
                user = authenticate(request, username=email, password=form.cleaned_data["password"])
                if user is None:
                    services.sign_in_failed(email)
                    error = _("Email or password is wrong.")
                else:
                    services.sign_in_succeeded(email)
        if user is not None:
            if _needs_two_factor(user):
                request.session[PENDING_2FA_KEY] = user.pk
                return redirect(f"{reverse('accounts:login_2fa')}?next={_safe_next(request)}")
            login(request, user)
            return HttpResponseRedirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "error": error, "next": _safe_next(request)})


def login_2fa_view(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_2FA_KEY)
    if not user_id:
        return redirect("accounts:login")
    user = User.objects.get(pk=user_id)
    form = CodeForm(request.POST or None)
    error = ""
    has_device = services.has_confirmed_totp(user)
    if request.method == "POST" and has_device and form.is_valid():
        with transaction.atomic(durable=True):
            ok = not services.sign_in_locked(user.email) and services.totp_verify(
                user=user, code=form.cleaned_data["code"]
            )
            if not ok:
                services.sign_in_failed(user.email)
        if ok:
            del request.session[PENDING_2FA_KEY]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[TWO_FACTOR_OK_KEY] = True
            return HttpResponseRedirect(_safe_next(request))
        error = _("The code is wrong or was already used.")
    if not has_device:
        # The workspace requires two-factor and this user has none yet: sign in only to set it up.
        del request.session[PENDING_2FA_KEY]
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("accounts:two_factor")
    return render(
        request, "accounts/login_2fa.html", {"form": form, "error": error, "next": _safe_next(request)}
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


def _send_reset_mail(user_id: int, link: str) -> None:
    user = User.objects.get(pk=user_id)
    outbound.send(
        outbound.OutboundMessage(
            workspace_id=None,
            channel="email",
            to=user.email,
            subject=_("Reset your Carekit password"),
            body=_(
                "Open this link to choose a new password:\n\n%(link)s\n\n"
                "If you did not ask for it, ignore this mail."
            )
            % {"link": link},
            message_class=outbound.MessageClass.SERVICE,
        )
    )


def password_reset_view(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(email=form.cleaned_data["email"].strip().lower(), is_active=True).first()
        if user is not None and user.has_usable_password():
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            link = request.build_absolute_uri(reverse("accounts:password_reset_confirm", args=[uid, token]))
            with transaction.atomic(durable=True):
                transaction.on_commit(lambda: _send_reset_mail(user.pk, link))
        return render(request, "accounts/password_reset_sent.html")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_confirm_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "accounts/password_reset_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(durable=True):
            form.save()
            services.sign_in_succeeded(user.email)
        return redirect(f"{reverse('accounts:login')}?reset=1")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


@login_required
def two_factor_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = TotpDevice.objects.filter(user=user).first()
    error = ""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "begin":
        with transaction.atomic(durable=True):
            device = services.totp_begin(actor=Actor.of_user(user.public_id), user=user)
        form = CodeForm()
    elif request.method == "POST" and device is not None and form.is_valid():
        with transaction.atomic(durable=True):
            ok = services.totp_confirm(
                actor=Actor.of_user(user.public_id), user=user, code=form.cleaned_data["code"]
            )
        if ok:
            request.session[TWO_FACTOR_OK_KEY] = True
            return redirect("home")
        error = _("The code is wrong or was already used.")
    context: dict[str, Any] = {"device": device, "form": form, "error": error}
    if device is not None and device.confirmed_at is None:
        import pyotp

        context["otpauth"] = pyotp.TOTP(device.secret).provisioning_uri(
            name=user.email, issuer_name="Carekit"
        )
    return render(request, "accounts/two_factor.html", context)


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    workspaces = selectors.workspaces_of(user)
    current = request.session.get(SESSION_WORKSPACE_KEY)
    if workspaces and current not in {w.public_id for w in workspaces}:
        request.session[SESSION_WORKSPACE_KEY] = current = workspaces[0].public_id
    return render(request, "accounts/home.html", {"workspaces": workspaces, "current": current})
