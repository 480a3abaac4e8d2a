"""Channel settings in headless Chromium against a real `carekit serve`: an owner adds a Telegram bot
(polling mode, the local Bot API double), sees the secret once, connects it, rotates the secret, and
sees a quarantined update with its reason; screenshots in Russian and English under test-artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from carekit.demo.public import DEMO_PASSWORD
from carekit.testing.browser import CHROMIUM_ARGS, demo_server
from carekit.testing.telegram import TOKEN, UpdateBuilder, bot_api_double, free_port

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
OWNER = "anna.volkova@wardrobe.demo"

pytestmark = [pytest.mark.browser]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    extra = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
    with demo_server(tmp_path, extra, port=free_port()) as (base, _env):
        yield base


def _login(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_email", OWNER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_an_owner_sets_up_a_telegram_bot_in_russian_and_english(served):
    from playwright.sync_api import expect, sync_playwright

    from carekit.testing.telegram import post_update

    ARTIFACTS.mkdir(exist_ok=True)
    with bot_api_double() as double, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for lang, locale in (("en", "en-US"), ("ru", "ru-RU")):
                ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)
                ctx.add_cookies([{"name": "django_language", "value": lang, "url": served}])
                page = ctx.new_page()
                _login(page, served)
                page.click("nav.sidenav a[href='/settings/channels/']")
                page.click("a[href='/settings/channels/new/telegram/']")
                page.fill("#f-name", f"Shop bot {lang}")
                page.select_option("#f-mode", "polling")
                page.fill("#f-bot_username", "shop_bot")
                page.fill("#f-api_base_url", double.base_url)
                page.fill("#f-bot_token", TOKEN)
                page.screenshot(path=str(ARTIFACTS / f"channels-new-telegram-{lang}.png"), full_page=True)
                page.click("main button[type=submit]:not(.secondary)")
                secret = page.locator("#secret-once code").inner_text()
                assert len(secret) >= 40
                page.screenshot(path=str(ARTIFACTS / f"channels-created-{lang}.png"), full_page=True)
                page.reload()  # a GET after the redirect: the secret is gone, nothing is created again
                expect(page.locator("#secret-once")).to_have_count(0)
                page.click("text=" + ("Connect to Telegram" if lang == "en" else "Подключить к Telegram"))
                expect(page.locator(".notice")).to_be_visible()
                assert double.calls_of("deleteWebhook")
                # an update of an unknown type, posted to the webhook, lands in the quarantine list
                key = page.locator("dd.mono").first.inner_text()
                status, _body = post_update(served, key, secret, UpdateBuilder().unknown("message_reaction"))
                assert status == 200
                page.reload()
                expect(page.locator("#quarantine")).to_contain_text("unsupported_update")
                page.click("#rotate")
                new = page.locator("#secret-once code").inner_text()
                assert new != secret
                page.screenshot(path=str(ARTIFACTS / f"channels-detail-{lang}.png"), full_page=True)
                page.goto(f"{served}/settings/channels/")
                expect(page.locator("#channels")).to_contain_text(f"Shop bot {lang}")
                page.screenshot(path=str(ARTIFACTS / f"channels-list-{lang}.png"), full_page=True)
                ctx.close()
        finally:
            browser.close()


def test_a_failed_telegram_reply_shows_its_error_and_retry_sends_it(served):
    """In the inbox: the bot was blocked, the reply is marked not delivered with Telegram's error; the
    agent retries once the customer unblocks it, and the reply goes out by sendMessage."""
    from playwright.sync_api import expect, sync_playwright

    from carekit.testing.telegram import post_update

    ARTIFACTS.mkdir(exist_ok=True)
    with bot_api_double() as double, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
            ctx.add_cookies([{"name": "django_language", "value": "ru", "url": served}])
            page = ctx.new_page()
            _login(page, served)
            page.goto(f"{served}/settings/channels/new/telegram/")
            page.fill("#f-name", "Shop bot")
            page.fill("#f-api_base_url", double.base_url)
            page.fill("#f-bot_token", TOKEN)
            page.click("main button[type=submit]:not(.secondary)")
            secret = page.locator("#secret-once code").inner_text()
            key = page.locator("dd.mono").first.inner_text()
            status, body = post_update(served, key, secret, UpdateBuilder().text(4242, "Где мой заказ 1001?"))
            assert (status, body["status"]) == (200, "received")
            page.goto(f"{served}/inbox/?view=all")
            page.click("text=Где мой заказ 1001?")
            double.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
            page.fill("#reply-text", "Заказ уже в пути")
            page.click("#reply-form button[type=submit]")
            failed = page.locator(".delivery-failed")
            deadline = time.monotonic() + 30
            while failed.count() == 0 and time.monotonic() < deadline:
                time.sleep(0.5)
                page.reload()
            expect(failed).to_contain_text("bot was blocked by the user")
            page.locator("details:has(#call-number) summary").click()
            page.screenshot(path=str(ARTIFACTS / "inbox-failed-telegram-reply-ru.png"), full_page=True)
            failed.locator("button").click()
            expect(page.locator(".delivery-failed")).to_have_count(0, timeout=30_000)
            deadline = time.monotonic() + 30
            while len(double.calls_of("sendMessage")) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            sent = double.calls_of("sendMessage")
            assert [(c.params["chat_id"], c.params["text"]) for c in sent] == [
                ("4242", "Заказ уже в пути"),
                ("4242", "Заказ уже в пути"),
            ]
            ctx.close()
        finally:
            browser.close()
