"""Headless Chromium: a mail with a Cc posted to the inbound webhook of a real `carekit serve` shows in the
agent's conversation with its From/To/Cc lines, in English and in Russian. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from carekit.channels.tests import email_mail as mails
from carekit.channels.tests.email_servers import free_port
from carekit.core.webhooks import signing
from carekit.demo.public import DEMO_PASSWORD
from carekit.testing.browser import cli, demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
OWNER = "anna.volkova@wardrobe.demo"
MAKE_CHANNEL = """
import json
from django.db import transaction
from carekit.channels import services
from carekit.core.events import Actor
from carekit.core.models import Workspace
ws = Workspace.objects.order_by("pk").first()
with transaction.atomic():
    ch = services.channel_create(actor=Actor.system("test"), workspace=ws, kind="email", name="Support",
                                 config={"address": "support@example.test"})
print(json.dumps({"key": ch.public_key, "secret": ch.secrets["signing"]}))
"""


_cli = cli


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with demo_server(tmp_path, port=free_port()) as (base, env):
        yield base, env


def test_the_agent_sees_an_email_with_its_cc_in_english_and_russian(served):
    from playwright.sync_api import expect, sync_playwright

    base, env = served
    channel = json.loads(_cli("shell", "-c", MAKE_CHANNEL, env=env).strip().splitlines()[-1])
    raw = mails.cp1251_with_attachment()
    req = urllib.request.Request(
        f"{base}/channels/email/{channel['key']}/inbound",
        data=raw,
        headers={signing.SIGNATURE_HEADER: signing.sign(channel["secret"], raw, int(time.time()))},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        conversation = json.loads(resp.read())["conversation_id"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US").new_page()
        page.goto(f"{base}/login/")
        page.fill("#id_email", OWNER)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/inbox/c/{conversation}/")
        details = page.locator("#thread .msg-details")
        expect(details).to_contain_text("Cc")
        expect(details).to_contain_text("boss@customer.test")
        expect(details).to_contain_text("ivan@customer.test")
        expect(page.locator("#thread")).to_contain_text("Заказ 42 не пришёл")
        expect(page.locator("#thread .atts")).to_contain_text("счёт.pdf")
        page.screenshot(path=str(ARTIFACTS / "email-conversation-en-1366.png"), full_page=True)
        page.select_option("#lang", "ru")
        page.wait_for_load_state("load")
        expect(page.locator("#thread .msg-details")).to_contain_text("Копия")
        page.screenshot(path=str(ARTIFACTS / "email-conversation-ru-1366.png"), full_page=True)
        browser.close()
