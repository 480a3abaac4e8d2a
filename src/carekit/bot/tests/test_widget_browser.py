"""The bot in the web chat widget, in headless Chromium on the demo shop page (issue 8): a verified
customer asking "где мой заказ 10234" gets the delivery status; an unverified visitor asking the same is
asked to verify and sees nothing of the order; "хочу вернуть платье" starts a return; "позовите
оператора" hands off and the agent sees the bot's summary pinned above the transcript."""

from __future__ import annotations

import pytest

from carekit.channels.tests.test_webchat_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    Served,
    _agent,
    _conversation_of,
    _send,
    _shop,
    browser,
    served,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_order_status_verification_return_and_hand_off_through_the_widget(served: Served, browser):  # noqa: F811
    from playwright.sync_api import expect

    token = served.py("from carekit.bot.tests.widget_seed import seed; print(seed())")

    # an unverified visitor: asked to prove who they are, nothing of order 10234 shown
    stranger = _shop(browser, served.base, "ru")
    stranger.click("#ck-skip")
    _send(stranger, "где мой заказ 10234")
    bot = stranger.locator("#ck-messages .msg.outbound")
    expect(bot).to_have_count(1, timeout=20_000)
    expect(stranger.locator("#ck-panel")).not_to_contain_text("TRK-777")
    expect(stranger.locator("#ck-panel")).not_to_contain_text("СДЭК")
    stranger.screenshot(path=str(ARTIFACTS / "bot-ru-unverified.png"))

    # the shop's signed token proves the customer: the delivery status comes back
    page = _shop(browser, served.base, "ru", f"&token={token}")
    _send(page, "где мой заказ 10234")
    expect(page.locator("#ck-messages .msg.outbound").last).to_contain_text("TRK-777", timeout=20_000)

    _send(page, "хочу вернуть платье")
    expect(page.locator("#ck-messages .msg.outbound").last).to_contain_text("Платье льняное", timeout=20_000)
    returns = served.py(
        "from carekit.customers.models import Return; "
        "print(Return.objects.filter(order__external_id='10234').count())"
    )
    assert returns == "1"

    _send(page, "позовите оператора")
    # three answers: the status, the return, the hand-off
    expect(page.locator("#ck-messages .msg.outbound")).to_have_count(3, timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "bot-ru-verified.png"))

    agent = _agent(browser, served.base)
    conv = _conversation_of(served, "позовите оператора")
    agent.goto(f"{served.base}/inbox/c/{conv}/")
    expect(agent.locator("#pinned-summary")).to_be_visible()
    expect(agent.locator("#pinned-summary")).to_contain_text("10234")
    agent.screenshot(path=str(ARTIFACTS / "bot-agent-pinned-summary.png"))
