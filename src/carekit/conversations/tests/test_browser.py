"""The agent workspace in headless Chromium against a real `carekit serve` (embedded worker, in-memory
layer): a message posted through the API channel appears in the open inbox without a reload; the agent
answers with a canned response whose variables are filled; the reply reaches the API channel's webhook
receiver, signed. Screenshots are kept under test-artifacts/.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from carekit.core.webhooks import signing
from carekit.core.webhooks.testing import webhook_receiver
from carekit.demo.public import DEMO_PASSWORD
from carekit.testing.browser import CHROMIUM_ARGS, demo_server

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
AGENT = "maria.sokolova@wardrobe.demo"
OWNER = "anna.volkova@wardrobe.demo"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    # the test's webhook receiver listens on 127.0.0.1
    with demo_server(tmp_path, {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}) as (base, _env):
        yield base


def _login(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def _post_json(url: str, body: dict, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


@pytest.mark.browser
@pytest.mark.slow
def test_api_message_appears_live_and_the_canned_reply_reaches_the_receiver_signed(served: str):
    from playwright.sync_api import expect, sync_playwright

    base = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw, webhook_receiver([200]) as receiver:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        agent = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
        page = agent.new_page()
        _login(page, base, AGENT)
        workspace = page.locator("#ws-select").input_value()

        # the supervisor sets up the channel, a canned response, a customer and a token for the shop
        owner = browser.new_context()
        owner_page = owner.new_page()
        _login(owner_page, base, OWNER)
        csrf = next(c["value"] for c in owner.cookies() if c["name"] == "csrftoken")
        headers = {"X-CSRFToken": csrf, "X-Carekit-Workspace": workspace, "Referer": f"{base}/"}

        def call(path: str, data: dict):
            resp = owner_page.request.post(f"{base}/api/v1{path}", headers=headers, data=data)
            assert resp.status in (200, 201), (path, resp.status, resp.text())
            return resp.json()

        channel = call("/inbox/api-channels", {"name": "Shop backend", "webhook_url": receiver.url})
        call(
            "/inbox/canned-responses",
            {
                "shortcut": "eta",
                "title": "Delivery time",
                "body": "Hello {customer.first_name}, your parcel is on its way.",
            },
        )
        customer = call("/customers", {"first_name": "Olga", "last_name": "Petrova"})
        token = call("/tokens", {"name": "shop", "scopes": ["inbox:channel"]})["secret"]

        page.goto(f"{base}/inbox/?view=all")
        expect(page.locator("html")).to_have_attribute("data-inbox-live", "on", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "inbox-en-1366-empty.png"))
        before = int(page.locator("#count-all").inner_text())  # the demo has conversations of its own

        status, body = _post_json(
            f"{base}/api/v1/inbox/api-channels/{channel['id']}/messages",
            {
                "thread_id": "order-1001",
                "message_id": "shop-msg-1",
                "customer_id": customer["id"],
                "text": "Hi! When will my order A-1001 arrive?",
            },
            token,
        )
        assert status == 201, body
        row = page.locator(f"tr[data-conversation='{body['conversation_id']}']")
        expect(row).to_contain_text("When will my order A-1001 arrive?", timeout=15_000)
        expect(page.locator("#count-all")).to_have_text(str(before + 1))
        page.screenshot(path=str(ARTIFACTS / "inbox-en-1366-live.png"))

        row.locator("a").click()
        page.wait_for_url(f"**/inbox/c/{body['conversation_id']}/")
        expect(page.locator("#thread")).to_contain_text("When will my order A-1001 arrive?")
        expect(page.locator(".cust-name")).to_contain_text("Olga Petrova")
        page.select_option("#canned", label="Delivery time (/eta)")
        expect(page.locator("#reply-text")).to_have_value("Hello Olga, your parcel is on its way.")
        page.click("#send")
        expect(page.locator("#thread li.outbound")).to_contain_text("Hello Olga, your parcel is on its way.")
        expect(page.locator("#reply-text")).to_have_value("")

        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(receiver.requests) == 1
        got = receiver.requests[0]
        assert signing.verify(channel["secret"], got.body, got.headers[signing.SIGNATURE_HEADER])
        delivered = json.loads(got.body)
        assert delivered["text"] == "Hello Olga, your parcel is on its way."
        assert (delivered["thread_id"], delivered["conversation_id"]) == (
            "order-1001",
            body["conversation_id"],
        )
        # the delivery state reaches the page without a reload too
        expect(page.locator("#thread li.outbound .state")).to_have_text("Sent", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "conversation-en-1366.png"), full_page=True)

        # a second customer message arrives while the conversation is open
        _post_json(
            f"{base}/api/v1/inbox/api-channels/{channel['id']}/messages",
            {
                "thread_id": "order-1001",
                "message_id": "shop-msg-2",
                "customer_id": customer["id"],
                "text": "Thanks!",
            },
            token,
        )
        expect(page.locator("#thread")).to_contain_text("Thanks!", timeout=15_000)

        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(ARTIFACTS / "conversation-en-phone.png"), full_page=True)
        page.select_option("#lang", "ru")
        page.wait_for_load_state("load")
        page.set_viewport_size({"width": 1366, "height": 768})
        page.screenshot(path=str(ARTIFACTS / "conversation-ru-1366.png"), full_page=True)
        page.goto(f"{base}/inbox/?view=all")
        page.screenshot(path=str(ARTIFACTS / "inbox-ru-1366.png"))

        # the supervisor's board: queues, agent load, SLA at risk, the daily report
        owner_page.goto(f"{base}/inbox/supervisor/")
        expect(owner_page.locator("h1")).to_have_text("Supervisor")
        owner_page.screenshot(path=str(ARTIFACTS / "supervisor-en-1366.png"), full_page=True)
        browser.close()
