"""The widget in headless Chromium on the demo shop page against a real `carekit serve` (embedded worker,
in-memory layer, SQLite): a visitor writes, the agent replies in the inbox, the visitor sees it live and
finds the history after a reload; with the websocket cut by the test while the visitor sends two
messages, both arrive exactly once; a visitor who types another customer's email sees nothing of theirs
until the one-time code is entered. Screenshots (ru, en) are kept under test-artifacts/webchat/.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from carekit.demo.public import DEMO_PASSWORD
from carekit.testing.browser import CHROMIUM_ARGS, demo_server

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "webchat"
AGENT = "maria.sokolova@wardrobe.demo"
PORTS = range(18100, 18150)  # this helper's port range

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Served:
    def __init__(self, base: str, env: dict[str, str], var: Path) -> None:
        self.base, self.env, self.var = base, env, var

    def py(self, code: str) -> str:
        """Run Python against the served database (the server is another process)."""
        out = subprocess.run(
            [sys.executable, "-m", "carekit.cli", "shell", "--no-imports", "-c", code],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        lines = out.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def texts(self) -> list[str]:
        return json.loads(
            self.py(
                "import json; from carekit.conversations.models import Message; "
                "print(json.dumps(list(Message.objects.filter(conversation__channel='webchat')"
                ".order_by('pk').values_list('text', flat=True))))"
            )
        )

    def codes(self) -> list[str]:
        found = []
        for f in sorted((self.var / "mail").glob("*.log")) + sorted((self.var / "mail").glob("*.eml")):
            found += re.findall(r":\s(\d{6})\.", f.read_text(errors="replace"))
        return found


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("webchat")
    with demo_server(tmp, port=_free_port()) as (base, env):
        yield Served(base, env, tmp / "var")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _shop(browser, base: str, lang: str = "en", query: str = ""):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ru-RU" if lang == "ru" else "en-US"
    )
    page = context.new_page()
    page.goto(f"{base}/demo/shop/?lang={lang}{query}")
    page.wait_for_selector("#carekit-widget[data-ready='1']", state="attached")
    page.click("#ck-launcher")
    return page


def _send(page, text: str) -> None:
    page.fill("#ck-text", text)
    page.click("#ck-send")


def _agent(browser, base: str):
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US").new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_email", AGENT)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _conversation_of(served: Served, text: str) -> str:
    return served.py(
        "from carekit.conversations.models import Message; "
        f"print(Message.objects.filter(text={text!r}).get().conversation.public_id)"
    )


def test_visitor_writes_agent_replies_live_and_history_survives_a_reload(served: Served, browser):
    from playwright.sync_api import expect

    page = _shop(browser, served.base, "en")
    expect(page.locator("#ck-prechat")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "widget-en-prechat.png"))
    page.click("#ck-skip")
    _send(page, "Hello! Is the wool coat in stock in size M?")
    expect(page.locator("#ck-messages .msg.inbound[data-id]")).to_have_count(1, timeout=15_000)

    agent = _agent(browser, served.base)
    conv = _conversation_of(served, "Hello! Is the wool coat in stock in size M?")
    agent.goto(f"{served.base}/inbox/c/{conv}/")
    expect(agent.locator("#thread")).to_contain_text("Is the wool coat in stock in size M?")
    agent.locator("#reply-text").press_sequentially("Yes")  # the visitor sees the agent typing
    expect(page.locator("#ck-typing")).to_be_visible(timeout=10_000)
    agent.fill("#reply-text", "Yes, size M is in stock. Shall I reserve one for you?")
    agent.click("#send")

    reply = page.locator("#ck-messages .msg.outbound")
    expect(reply).to_contain_text("Yes, size M is in stock", timeout=15_000)
    expect(reply).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "widget-en-conversation.png"))

    page.reload()
    page.wait_for_selector("#carekit-widget[data-ready='1']", state="attached")
    page.click("#ck-launcher")
    expect(page.locator("#ck-messages .msg")).to_have_count(2, timeout=15_000)
    expect(page.locator("#ck-messages .msg").nth(0)).to_contain_text("Is the wool coat in stock")
    expect(page.locator("#ck-messages .msg").nth(1)).to_contain_text("Yes, size M is in stock")
    expect(page.locator("#ck-prechat")).to_be_hidden()


def test_two_messages_sent_while_the_socket_is_cut_arrive_exactly_once(served: Served, browser):
    from playwright.sync_api import expect

    page = _shop(browser, served.base, "en")
    mode = {"now": "normal"}
    routes: list = []

    def handler(route) -> None:
        routes.append(route)
        if mode["now"] == "down":
            route.close()
            return
        server = route.connect_to_server()
        route.on_message(lambda m: server.send(m))
        # "lose_acks": frames reach the server, but nothing comes back (the ack is lost in the cut)
        server.on_message(lambda m: None if mode["now"] == "lose_acks" else route.send(m))

    page.route_web_socket(re.compile(r".*/ws/webchat/.*"), handler)
    page.reload()
    page.wait_for_selector("#carekit-widget[data-ready='1']", state="attached")
    page.click("#ck-launcher")
    page.click("#ck-skip")
    _send(page, "cut: warm-up")
    expect(page.locator("#ck-messages .msg.inbound[data-id]")).to_have_count(1, timeout=15_000)

    mode["now"] = "lose_acks"
    _send(page, "cut: first")
    deadline = time.monotonic() + 20
    while "cut: first" not in served.texts():  # stored by the server, ack never delivered
        assert time.monotonic() < deadline
        time.sleep(0.3)
    mode["now"] = "down"
    routes[-1].close()  # the test cuts the socket
    expect(page.locator("#ck-notice")).to_have_text("Reconnecting…", timeout=10_000)
    _send(page, "cut: second")
    expect(page.locator("#ck-messages .msg.pending")).to_have_count(2)
    while len(routes) < 3:  # at least one reconnect refused while the network is "down"
        page.wait_for_timeout(200)
    mode["now"] = "normal"

    expect(page.locator("#ck-messages .msg.pending")).to_have_count(0, timeout=30_000)
    expect(page.locator("#ck-messages .msg.inbound", has_text="cut: first")).to_have_count(1)
    expect(page.locator("#ck-messages .msg.inbound", has_text="cut: second")).to_have_count(1)
    stored = [t for t in served.texts() if t.startswith("cut:")]
    assert stored == ["cut: warm-up", "cut: first", "cut: second"]
    assert len(routes) >= 4  # the first socket, refused reconnects, then the one that resent


def test_a_typed_email_reveals_nothing_of_that_customer_until_the_code(served: Served, browser):
    from playwright.sync_api import expect

    served.py(
        "from django.db import transaction; "
        "from carekit.channels.adapters.webchat.demo import demo_channel; "
        "from carekit.channels.tests.webchat_helpers import make_customer_with_history; "
        "ch = demo_channel(); "
        "make_customer_with_history(ch.workspace, ch, 'olga@example.test')"
    )
    page = _shop(browser, served.base, "ru")
    page.fill("#ck-name", "Mallory")
    page.fill("#ck-contact", "olga@example.test")
    page.screenshot(path=str(ARTIFACTS / "widget-ru-prechat.png"))
    page.click("#ck-start")
    expect(page.locator("#ck-codebar")).to_be_visible(timeout=15_000)
    _send(page, "где мой заказ 10234")
    expect(page.locator("#ck-messages .msg.inbound[data-id]")).to_have_count(1, timeout=15_000)
    panel = page.locator("#ck-panel")
    expect(panel).not_to_contain_text("My secret earlier question")
    expect(panel).not_to_contain_text("RA123456789RU")
    expect(page.locator("#ck-orders")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "widget-ru-code.png"))

    deadline = time.monotonic() + 20
    while not served.codes():
        assert time.monotonic() < deadline
        time.sleep(0.3)
    code = served.codes()[-1]
    page.fill("#ck-code", "000000" if code != "000000" else "111111")
    page.click("#ck-verify")
    expect(page.locator("#ck-error")).to_be_visible(timeout=10_000)
    expect(panel).not_to_contain_text("My secret earlier question")
    expect(page.locator("#ck-orders")).to_be_hidden()

    page.fill("#ck-code", code)
    page.click("#ck-verify")
    expect(page.locator("#ck-orders li[data-order='10234']")).to_be_visible(timeout=15_000)
    expect(panel).to_contain_text("My secret earlier question about order 10234")
    expect(page.locator("#ck-codebar")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "widget-ru-verified.png"))


def test_screenshots_of_the_conversation_and_the_offline_form_in_both_languages(served: Served, browser):
    from playwright.sync_api import expect

    page = _shop(browser, served.base, "ru")
    page.click("#ck-skip")
    _send(page, "Здравствуйте! Можно обменять платье на другой размер?")
    expect(page.locator("#ck-messages .msg.inbound[data-id]")).to_have_count(1, timeout=15_000)
    served.py(
        "from carekit.channels.adapters.webchat.demo import demo_channel; "
        "from carekit.conversations.models import InboxSettings; "
        "InboxSettings.objects.filter(workspace_id=demo_channel().workspace_id).update(attachment_max_bytes=2000)"
    )
    page.reload()
    page.wait_for_selector("#carekit-widget[data-ready='1']", state="attached")
    page.click("#ck-launcher")
    expect(page.locator("#ck-messages .msg[data-id]")).to_have_count(1, timeout=15_000)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 992
    page.set_input_files(
        "#ck-file", files=[{"name": "size-chart.png", "mimeType": "image/png", "buffer": png}]
    )
    expect(page.locator("#ck-messages .msg .file")).to_contain_text("size-chart.png", timeout=15_000)
    big = {"name": "photo.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"0" * 3000}
    page.set_input_files("#ck-file", files=[big])
    expect(page.locator("#ck-error")).to_contain_text("Файл слишком большой")
    expect(page.locator("#ck-messages .msg .file")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "widget-ru-conversation.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "widget-ru-phone.png"))

    key = served.py(
        """
import datetime
from django.db import transaction
from django.utils import timezone
from carekit.channels import services
from carekit.channels.adapters.webchat.demo import demo_channel
from carekit.conversations.models import BusinessCalendar
from carekit.core.events import Actor
ch = demo_channel()
today = timezone.now().date()
with transaction.atomic():
    cal = BusinessCalendar.objects.create(
        workspace=ch.workspace, name="Shop hours", time_zone="UTC",
        hours={str(d): [["09:00", "19:00"]] for d in range(7)},
        holidays=[today.isoformat(), (today + datetime.timedelta(days=1)).isoformat()],
    )
    off = services.channel_create(
        actor=Actor.system("test"), workspace=ch.workspace, kind="webchat", name="Night chat",
        config={"calendar_id": cal.public_id, "title": "Wardrobe"},
    )
print(off.public_key)
"""
    )
    for lang in ("ru", "en"):
        page = _shop(browser, served.base, lang, f"&key={key}")
        expect(page.locator("#ck-offline")).to_be_visible(timeout=15_000)
        expect(page.locator("#ck-footer")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / f"widget-{lang}-offline.png"))
        page.fill("#ck-off-name", "Ivan")
        page.fill("#ck-off-contact", "ivan@example.test")
        page.fill("#ck-off-text", f"Offline question ({lang})")
        page.click("#ck-off-send")
        expect(page.locator("#ck-off-done")).to_be_visible()
    deadline = time.monotonic() + 20
    while len([t for t in served.texts() if t.startswith("Offline question")]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.3)
