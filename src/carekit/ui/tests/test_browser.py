# ruff: noqa: RUF001  (the assertions quote the Russian interface)
"""The shell in headless Chromium against a real `carekit serve` (embedded worker, in-memory layer).

Logs in as a demo agent, switches language and workspace, and receives a notification pushed by a
server event (a supervisor adds the agent to a team in another browser) without a reload.
Screenshots of both languages, desktop and phone, are kept under test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from carekit.core.webhooks.testing import webhook_receiver
from carekit.demo.public import DEMO_PASSWORD
from carekit.testing.browser import demo_server

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AGENT = "maria.sokolova@wardrobe.demo"
OWNER = "anna.volkova@wardrobe.demo"
DATA_VALUES = [
    "Wardrobe Online Shop",
    "Wardrobe Outlet",
    "Maria Sokolova",
    "Night shift",
    "Outlet support",
    "Carekit",
]

# Text a user reads, minus data values, scripts and form options (language names are shown in their
# own language on purpose).
VISIBLE_TEXT_JS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, select, .mono, time, code, pre').forEach(n => n.remove());
  const attrs = [...document.querySelectorAll('[aria-label], [placeholder]')]
      .map(n => (n.getAttribute('aria-label') || ''));
  return body.textContent + ' ' + attrs.join(' ');
}"""
UNLABELLED_JS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
  .map(el => el.outerHTML)"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    # the webhook receiver below listens on loopback; one attempt, so a 500 fails at once
    extra = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "WEBHOOK_MAX_ATTEMPTS": "1"}
    with demo_server(tmp_path, extra) as (base, _env):
        yield base


def _login(page, base: str, email: str, screenshot: str = "") -> None:
    page.goto(f"{base}/login/")
    if screenshot:
        page.screenshot(path=str(ARTIFACTS / screenshot))
    page.fill("#id_email", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def _reader_text(page) -> str:
    text = page.evaluate(VISIBLE_TEXT_JS)
    for value in DATA_VALUES:
        text = text.replace(value, " ")
    return text


def _untranslated_english(page) -> list[str]:
    # Words of three or more Latin letters, except acronyms such as API or HTTP
    return sorted({w for w in re.findall(r"[A-Za-z]{3,}", _reader_text(page)) if not w.isupper()})


@pytest.mark.browser
@pytest.mark.slow
def test_shell_language_workspace_and_pushed_notification(served: str):
    from playwright.sync_api import expect, sync_playwright

    base = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw, webhook_receiver([500, 200]) as receiver:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        agent = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
        page = agent.new_page()
        _login(page, base, AGENT, screenshot="login-en-1366.png")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Welcome, Maria Sokolova")
        assert re.findall(r"[А-Яа-яЁё]+", _reader_text(page)) == []
        assert page.evaluate(UNLABELLED_JS) == []
        page.screenshot(path=str(ARTIFACTS / "shell-en-1366.png"))

        # keyboard: the first Tab reaches the skip link; the bell opens with Enter and closes with Escape
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.focus("#bell-button")
        page.keyboard.press("Enter")
        expect(page.locator("#bell-panel")).to_be_visible()
        expect(page.locator("#bell-button")).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(page.locator("#bell-panel")).to_be_hidden()
        assert page.evaluate("document.activeElement.id") == "bell-button"

        # language: the switcher posts to set_language and comes back translated
        with page.expect_navigation():
            page.select_option("#lang", "ru")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.locator("h1")).to_have_text("Здравствуйте, Maria Sokolova")
        assert _untranslated_english(page) == []

        # workspace: the switcher moves the session to the outlet
        with page.expect_navigation():
            page.select_option("#ws-select", label="Wardrobe Outlet")
        expect(page.locator("main p.muted").first).to_have_text(
            "Вы работаете в пространстве «Wardrobe Outlet»."
        )
        expect(page.locator("html")).to_have_attribute("data-realtime", "on")
        # the demo put her in the outlet's support team: one notification, which she reads
        expect(page.locator("#bell-count")).to_have_text("1", timeout=15_000)
        page.click("#bell-button")
        expect(page.locator("#bell-panel")).to_contain_text("Вас добавили в команду «Outlet support»")
        page.click("#bell-panel button")
        expect(page.locator("#bell-count")).to_be_hidden()
        page.click("#bell-button")
        expect(page.locator("#bell-panel")).to_be_hidden()

        # a server event in another browser: the supervisor adds the agent to a new team
        owner = browser.new_context()
        owner_page = owner.new_page()
        _login(owner_page, base, OWNER)
        csrf = next(c["value"] for c in owner.cookies() if c["name"] == "csrftoken")
        outlet = page.locator("#ws-select").input_value()
        headers = {"X-CSRFToken": csrf, "X-Carekit-Workspace": outlet, "Referer": f"{base}/"}
        hook = owner_page.request.post(
            f"{base}/api/v1/webhooks",
            headers=headers,
            data={"url": receiver.url, "event_types": ["accounts.team.*"]},
        )
        assert hook.status == 201, hook.text()
        members = owner_page.request.get(f"{base}/api/v1/members", headers=headers).json()["items"]
        member_id = next(m["id"] for m in members if m["email"] == AGENT)
        team = owner_page.request.post(f"{base}/api/v1/teams", headers=headers, data={"name": "Night shift"})
        assert team.status == 201, team.text()
        added = owner_page.request.post(
            f"{base}/api/v1/teams/{team.json()['id']}/members", headers=headers, data={"member_id": member_id}
        )
        assert added.status == 200, added.text()

        expect(page.locator("#bell-count")).to_have_text("1", timeout=15_000)
        expect(page.locator("#bell-button")).to_have_attribute("aria-label", "Уведомления, непрочитанных: 1")
        page.click("#bell-button")
        expect(page.locator("#bell-panel")).to_contain_text("Вас добавили в команду «Night shift»")
        assert _untranslated_english(page) == []
        assert page.evaluate(UNLABELLED_JS) == []
        page.screenshot(path=str(ARTIFACTS / "shell-ru-1366-notification.png"))

        page.goto(f"{base}/notifications/")
        page.set_viewport_size({"width": 390, "height": 844})
        assert _untranslated_english(page) == []
        page.screenshot(path=str(ARTIFACTS / "shell-ru-phone-notifications.png"), full_page=True)

        # the owner resends the webhook delivery that failed (the receiver answered 500 first)
        switched = owner_page.request.post(
            f"{base}/workspace/switch/", headers=headers, form={"workspace": outlet}, max_redirects=0
        )
        assert switched.status == 302
        # two deliveries (team created, member added): whichever reached the receiver first got the 500
        owner_page.goto(f"{base}/webhooks/?status=failed")
        rows = owner_page.locator("#deliveries tbody tr", has_text="accounts.team.")
        expect(rows).to_have_count(1, timeout=15_000)
        rows.get_by_role("button", name="Resend").click()
        expect(rows).to_contain_text("Queued")
        owner_page.screenshot(path=str(ARTIFACTS / "webhooks-en-1366-resent.png"))
        delivered = owner_page.locator("#deliveries tbody tr", has_text="accounts.team.")
        for _ in range(30):
            owner_page.goto(f"{base}/webhooks/?status=succeeded")
            if delivered.count() == 2:
                break
            owner_page.wait_for_timeout(500)
        expect(delivered).to_have_count(2)
        assert len(receiver.requests) == 3

        # the supervisor's pages in English, phone and desktop
        owner_page.goto(f"{base}/webhooks/")
        owner_page.set_viewport_size({"width": 390, "height": 844})
        assert re.findall(r"[А-Яа-яЁё]+", _reader_text(owner_page)) == []
        owner_page.screenshot(path=str(ARTIFACTS / "shell-en-phone-webhooks.png"), full_page=True)
        owner_page.set_viewport_size({"width": 1366, "height": 768})
        owner_page.goto(f"{base}/audit/")
        expect(owner_page.locator("tbody tr").first).to_contain_text("webhooks.delivery.resent")
        owner_page.screenshot(path=str(ARTIFACTS / "shell-en-1366-audit.png"))
        browser.close()
