"""Channel instances: settings checked by their adapter, secrets rotated with a grace period, health
written at most every few seconds, refused input quarantined with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from carekit.channels import adapters, services
from carekit.channels.models import Channel, QuarantinedInput
from carekit.core.errors import DomainError
from carekit.core.models import Event
from carekit.testing.tenants import SYSTEM, make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _validate(config, secrets):
    if "url" in config and not str(config["url"]).startswith("http"):
        raise DomainError("bad url", field="config.url", code="bad_url")
    return config, secrets


@pytest.fixture(autouse=True)
def fake_adapter():
    before = dict(adapters._ADAPTERS)
    adapters.add(
        adapters.Adapter(kind="sms", config_keys=("url",), secret_keys=("token",), validate=_validate)
    )
    yield
    adapters._ADAPTERS.clear()
    adapters._ADAPTERS.update(before)


def _create(ws, **kw):
    with transaction.atomic():
        return services.channel_create(actor=SYSTEM, workspace=ws, kind="sms", name="Gateway", **kw)


def test_create_stores_checked_settings_a_signing_secret_and_an_event():
    ws = make_workspace()
    ch = _create(ws, config={"url": "http://127.0.0.1:9/sms"}, secrets={"token": "t0k"})
    assert ch.config == {"url": "http://127.0.0.1:9/sms"}
    assert ch.secrets["token"] == "t0k"
    assert len(ch.secrets[services.SIGNING]) >= 40
    assert ch.public_key.startswith("sm_")
    assert Event.objects.filter(type="channels.channel.created", subject_id=ch.public_id).count() == 1


@pytest.mark.parametrize(
    ("config", "code"),
    [({"url": "ftp://x"}, "bad_url"), ({"nope": 1}, "unknown_setting")],
)
def test_bad_settings_are_refused_and_nothing_is_stored(config, code):
    ws = make_workspace()
    with pytest.raises(DomainError) as err:
        _create(ws, config=config)
    assert err.value.code == code
    assert Channel.objects.filter(workspace=ws).count() == 0


def test_update_keeps_unmentioned_secrets_and_refuses_bad_values_without_change():
    ws = make_workspace()
    ch = _create(ws, config={"url": "http://a"}, secrets={"token": "one"})
    with transaction.atomic():
        services.channel_update(actor=SYSTEM, channel=ch, name="Renamed", config={"url": "http://b"})
    ch.refresh_from_db()
    assert (ch.name, ch.config["url"], ch.secrets["token"]) == ("Renamed", "http://b", "one")
    with pytest.raises(DomainError), transaction.atomic():
        services.channel_update(actor=SYSTEM, channel=ch, config={"url": "gopher://c"})
    ch.refresh_from_db()
    assert ch.config["url"] == "http://b"


def test_rotation_accepts_the_old_secret_only_during_the_grace_period():
    ws = make_workspace()
    ch = _create(ws)
    old = ch.secrets[services.SIGNING]
    now = timezone.now()
    with transaction.atomic():
        new = services.channel_rotate_secret(actor=SYSTEM, channel=ch, at=now)
    ch.refresh_from_db()
    assert new != old
    assert services.secret_matches(ch, new, at=now)
    assert services.secret_matches(ch, old, at=now + timedelta(hours=23))
    assert not services.secret_matches(ch, old, at=now + services.ROTATION_GRACE + timedelta(seconds=1))
    assert not services.secret_matches(ch, "forged", at=now)


def test_quarantine_keeps_an_excerpt_and_marks_the_channel_error():
    ws = make_workspace()
    ch = _create(ws)
    raw = b"From: x\r\n" + b"A" * 10_000
    with transaction.atomic():
        row = services.quarantine(channel=ch, reason="malformed_mime", detail="no boundary", raw=raw)
    ch.refresh_from_db()
    assert (row.size, len(row.excerpt), row.reason) == (len(raw), services.EXCERPT_BYTES, "malformed_mime")
    assert ch.last_error.startswith("malformed_mime: no boundary")
    assert ch.last_error_at is not None
    assert QuarantinedInput.objects.filter(channel=ch).count() == 1
    assert Event.objects.filter(type="channels.input.quarantined").count() == 1


def test_health_timestamp_is_written_once_per_interval():
    ws = make_workspace()
    ch = _create(ws)
    services._last_health_write.clear()
    t1 = timezone.now() - timedelta(minutes=5)
    services.note_inbound(ch, at=t1)
    services.note_inbound(ch, at=timezone.now())  # within the interval: no write
    ch.refresh_from_db()
    assert ch.last_inbound_at == t1
