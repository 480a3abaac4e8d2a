"""SMS through a generic HTTP gateway (the local double `carekit.testing.sms`): the one-time code of a
customer's claim goes through the sender registry; templates, methods and errors."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from carekit.channels import services
from carekit.channels.models import Channel
from carekit.core import outbound
from carekit.core.errors import DomainError
from carekit.testing.sms import sms_gateway
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

NUMBER = "+79161234567"


def _channel(ws, gateway_url, **config) -> Channel:
    with transaction.atomic():
        return services.channel_create(
            actor=SYSTEM,
            workspace=ws,
            kind="sms",
            name="Gateway",
            config={"url": gateway_url, "auth_header": "Authorization", "sender": "Shop", **config},
            secrets={"auth_value": "Bearer gw-key"},
        )


def _send(ws, text="Привет", key="k-1") -> outbound.SendResult:
    return outbound.send(
        outbound.OutboundMessage(
            workspace_id=ws.pk,
            channel="sms",
            to=NUMBER,
            body=text,
            message_class=outbound.MessageClass.SERVICE,
            idempotency_key=key,
        )
    )


def test_a_claims_one_time_code_goes_out_through_the_gateway(workspace, django_capture_on_commit_callbacks):
    from carekit.customers import claims

    with sms_gateway() as gw:
        _channel(workspace, gw.url)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            claims.claim_start(
                actor=SYSTEM,
                workspace=workspace,
                visitor_kind="visitor",
                visitor_value="v-1",
                kind="phone",
                value=NUMBER,
            )
    [req] = gw.requests
    body = req.json()
    assert (req.method, req.path, req.headers["Authorization"]) == ("POST", "/api/send", "Bearer gw-key")
    assert (body["to"], body["from"]) == (NUMBER, "Shop")
    assert re.fullmatch(r"Your confirmation code: \d{6}\. It is valid for 10 minutes\.", body["text"])


def test_form_and_query_templates_escape_the_values(workspace):
    with sms_gateway() as gw:
        ch = _channel(
            workspace,
            gw.url,
            content_type="application/x-www-form-urlencoded",
            payload_template="phone={to}&msg={text}",
        )
        assert _send(workspace, text='a&b="c"').ok
        with transaction.atomic():
            services.channel_update(
                actor=SYSTEM, channel=ch, config={"method": "GET", "payload_template": "to={to}&t={text}"}
            )
        result = _send(workspace, text="й ё")
    assert gw.requests[0].form() == {"phone": [NUMBER], "msg": ['a&b="c"']}
    assert (gw.requests[1].method, gw.requests[1].query) == ("GET", {"to": [NUMBER], "t": ["й ё"]})
    assert (result.ok, result.provider_id) == (True, "sms-2")


def test_json_template_keeps_quotes_and_newlines_valid(workspace):
    with sms_gateway() as gw:
        _channel(workspace, gw.url)
        assert _send(workspace, text='line "one"\nline two').ok
    assert gw.requests[0].json()["text"] == 'line "one"\nline two'
    assert gw.requests[0].headers["Idempotency-Key"] == "k-1"


def test_gateway_errors_are_recorded_final_or_retryable(workspace):
    with sms_gateway([400, 503, 429]) as gw:
        gw.retry_after = "120"
        ch = _channel(workspace, gw.url)
        bad, down, busy = _send(workspace), _send(workspace), _send(workspace)
    assert (bad.ok, bad.retryable) == (False, False)
    assert (down.ok, down.retryable) == (False, True)
    assert (busy.retryable, busy.retry_after) == (True, 120)
    ch.refresh_from_db()
    assert ch.last_error.startswith("sms gateway HTTP 429")


def test_an_unreachable_gateway_is_retryable(workspace):
    from carekit.testing.telegram import free_port

    _channel(workspace, f"http://127.0.0.1:{free_port()}/send")
    result = _send(workspace)
    assert (result.ok, result.retryable) == (False, True)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"payload_template": "text={text}"}, "config.payload_template"),
        ({"method": "PUT"}, "config.method"),
        ({"url": "ftp://gw"}, "config.url"),
    ],
)
def test_bad_gateway_settings_are_refused(workspace, config, field):
    with pytest.raises(DomainError) as err:
        _channel(workspace, "http://127.0.0.1:9/send", **config)
    assert err.value.field == field
    assert Channel.objects.filter(workspace=workspace).count() == 0
