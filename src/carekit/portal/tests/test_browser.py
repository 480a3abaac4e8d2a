"""The cabinet in headless Chromium: sign in with the emailed code, see delivery status, withdraw
marketing consent, download the export, erase; afterwards no seeded personal value is left."""

from __future__ import annotations

import os
import zipfile

import pytest

from carekit.customers.models import Consent, Customer
from carekit.customers.tests.test_claims import mailbox  # noqa: F401  (fixture)
from carekit.portal.tests.test_portal import SEEDED, _code, _personal_hits, _seed, db_text_dump

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls in the test are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(accept_downloads=True)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_portal_flow_in_chromium(live_server, workspace, mailbox, browser_page, tmp_path):  # noqa: F811
    customer = _seed(workspace)
    page = browser_page
    base = f"{live_server.url}/portal/{workspace.slug}"
    page.goto(f"{base}/")
    page.fill("#email", SEEDED["email"])
    page.click("main button[type=submit]")
    page.fill("#code", _code(mailbox.sent[-1]))
    page.click("main button[type=submit]")

    assert page.inner_text("tr[data-order='Z-100'] td.status") == "Shipped"
    page.click("tr[data-consent='marketing-email'] button")
    assert Consent.objects.get(customer=customer, purpose="marketing", channel="email").granted is False

    page.click("text=Prepare a copy of my data")
    page.goto(f"{base}/")
    with page.expect_download() as info:
        page.click("ul.exports a")
    saved = tmp_path / "my-data.zip"
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as zf:
        assert SEEDED["email"] in zf.read("data.json").decode()

    page.check("input[name=confirm]")
    page.click("button.danger")
    assert "erased" in page.inner_text("h2")
    assert Customer.objects.get(pk=customer.pk).status == "erased"
    assert _personal_hits(db_text_dump()) == []
