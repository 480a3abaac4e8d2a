"""The inbound webhook under 8 concurrent clients over real HTTP (the shape `carekit bench channels`
drives): every mail arrives exactly once, each in its own conversation, with no errors."""

from __future__ import annotations

import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import transaction

from carekit.channels import services
from carekit.channels.models import EmailRecord, EmailThread, QuarantinedInput
from carekit.channels.tests import email_mail as mails
from carekit.channels.tests.email_servers import free_port
from carekit.conversations.models import Conversation, Message
from carekit.core.webhooks import signing
from carekit.testing.tenants import SYSTEM, make_workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.slow]
CLIENTS = 8
PER_CLIENT = 5


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_eight_concurrent_clients_each_mail_arrives_once():
    ws = make_workspace()
    with transaction.atomic():
        channel = services.channel_create(
            actor=SYSTEM,
            workspace=ws,
            kind="email",
            name="Support",
            config={"address": "support@example.test"},
        )
    secret = channel.secrets[services.SIGNING]
    httpd = make_server(
        "127.0.0.1", free_port(), get_wsgi_application(), server_class=_Server, handler_class=_Quiet
    )
    serving = threading.Thread(target=httpd.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{httpd.server_port}/channels/email/{channel.public_key}/inbound"

    def client(n: int) -> list[int]:
        codes = []
        for i in range(PER_CLIENT):
            body = mails.plain(
                sender=f"c{n}-{i}@customer.test", message_id=f"<b{n}-{i}@bench>", body=f"Question {n}-{i}"
            )
            req = urllib.request.Request(
                url,
                data=body,
                headers={
                    "Content-Type": "message/rfc822",
                    signing.SIGNATURE_HEADER: signing.sign(secret, body, int(time.time())),
                },
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                codes.append(resp.status)
        return codes

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            codes = [c for result in pool.map(client, range(CLIENTS)) for c in result]
    finally:
        httpd.shutdown()
        httpd.server_close()
    total = CLIENTS * PER_CLIENT
    assert codes == [200] * total
    assert Message.objects.filter(workspace=ws).count() == total
    assert Conversation.objects.filter(workspace=ws).count() == total
    assert EmailThread.objects.filter(channel=channel).count() == total
    assert EmailRecord.objects.filter(channel=channel, disposition="received").count() == total
    assert QuarantinedInput.objects.filter(channel=channel).count() == 0
