"""Sign-in, lockout, two-factor and password reset, through the real views."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.db import transaction
from django.utils import timezone

from carekit.accounts import services
from carekit.accounts.models import SignInThrottle, TotpDevice
from carekit.testing.outbound import recording
from carekit.testing.tenants import SYSTEM, make_user, make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
PASSWORD = "correct-horse-battery-9"


def _login(client, email, password=PASSWORD):
    return client.post("/login/", {"email": email, "password": password})


def test_sign_in_and_out(client):
    user = make_user()
    make_workspace(owner=user)
    resp = _login(client, user.email.upper())  # emails are case-insensitive
    assert resp.status_code == 302
    assert resp["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert user.email in home.content.decode()
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_wrong_password_locks_after_five_failures_even_for_the_right_one(client, settings):
    user = make_user()
    for _ in range(settings.LOGIN_LOCKOUT_FAILURES):
        resp = _login(client, user.email, "wrong-password-123")
        assert resp.status_code == 200
        assert "Email or password is wrong" in resp.content.decode()
    resp = _login(client, user.email)
    assert resp.status_code == 200
    assert "Too many failed attempts" in resp.content.decode()
    assert SignInThrottle.objects.get(key=user.email).failures == settings.LOGIN_LOCKOUT_FAILURES
    assert "_auth_user_id" not in client.session


def test_successful_sign_in_clears_earlier_failures(client):
    user = make_user()
    _login(client, user.email, "wrong-password-123")
    assert SignInThrottle.objects.filter(key=user.email).exists()
    assert _login(client, user.email).status_code == 302
    assert not SignInThrottle.objects.filter(key=user.email).exists()


def _enable_totp(user) -> pyotp.TOTP:
    with transaction.atomic():
        device = services.totp_begin(actor=SYSTEM, user=user)
    totp = pyotp.TOTP(device.secret)
    TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    return totp


def test_two_factor_sign_in_refuses_wrong_and_replayed_codes(client):
    user = make_user()
    make_workspace(owner=user)
    totp = _enable_totp(user)
    resp = _login(client, user.email)
    assert resp["Location"].startswith("/login/2fa/")
    assert "_auth_user_id" not in client.session  # the password alone signs nobody in

    resp = client.post("/login/2fa/", {"code": "000000" if totp.now() != "000000" else "111111"})
    assert "wrong or was already used" in resp.content.decode()
    code = totp.now()
    assert client.post("/login/2fa/", {"code": code})["Location"] == "/"
    client.post("/logout/")

    _login(client, user.email)
    resp = client.post("/login/2fa/", {"code": code})  # the same code again
    assert resp.status_code == 200
    assert "_auth_user_id" not in client.session


def test_workspace_requiring_two_factor_gates_the_api_until_verified(client):
    user = make_user()
    ws = make_workspace(owner=user)
    with transaction.atomic():
        services.workspace_set_two_factor(actor=SYSTEM, workspace=ws, required=True)
    resp = _login(client, user.email)
    resp = client.get(resp["Location"])  # no device yet: signed in only to set one up
    assert resp["Location"] == "/account/two-factor/"
    assert client.get("/api/v1/workspace").status_code == 401

    client.post("/account/two-factor/", {"action": "begin"})
    secret = TotpDevice.objects.get(user=user).secret
    resp = client.post("/account/two-factor/", {"code": pyotp.TOTP(secret).now()})
    assert resp["Location"] == "/"
    assert client.get("/api/v1/workspace").json()["id"] == ws.public_id


def test_password_reset_by_email(client):
    user = make_user()
    with recording("email") as mail, django_on_commit():
        resp = client.post("/password-reset/", {"email": user.email})
    assert resp.status_code == 200
    assert [m.to for m in mail.sent] == [user.email]
    link = re.search(r"http://testserver(/password-reset/\S+/)", mail.sent[0].body).group(1)
    resp = client.post(link, {"new_password1": "a-new-secret-pass-7", "new_password2": "a-new-secret-pass-7"})
    assert resp.status_code == 302
    assert _login(client, user.email, "a-new-secret-pass-7").status_code == 302
    assert client.get(link).status_code == 400  # a used link is dead


def test_password_reset_for_unknown_email_sends_nothing_and_looks_the_same(client):
    with recording("email") as mail, django_on_commit():
        resp = client.post("/password-reset/", {"email": "nobody@example.test"})
    assert resp.status_code == 200
    assert "Check your mail" in resp.content.decode()
    assert mail.sent == []


def django_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
