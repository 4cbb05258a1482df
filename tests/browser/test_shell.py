import pytest

from crm.access.tests.factories import PASSWORD, AdminFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def assert_nav_label(page, key: str, label: str) -> None:
    """Once translations land: the sidebar entry `key` reads `label`."""
    assert page.locator(f'#sidebar a[data-nav="{key}"]').inner_text().strip() == label


def test_admin_opens_every_navigation_entry(page, live_server):
    admin = AdminFactory()
    login(page, live_server, admin.email, PASSWORD)
    links = page.locator("#sidebar a[data-nav]")
    assert links.count() >= 1
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        response = page.goto(live_server.url + href)
        assert response.status < 500, href
        assert page.locator("main#main").count() == 1


def test_persian_user_gets_rtl(page, live_server):
    admin = AdminFactory(language="fa")
    login(page, live_server, admin.email, PASSWORD)
    page.goto(live_server.url + "/")
    html = page.locator("html")
    assert html.get_attribute("lang") == "fa"
    assert html.get_attribute("dir") == "rtl"
    assert_nav_label(page, "home", "خانه")


def test_switching_to_persian_on_the_preferences_page(page, live_server):
    admin = AdminFactory(language="en")
    login(page, live_server, admin.email, PASSWORD)
    page.goto(live_server.url + "/preferences/")
    assert page.locator("html").get_attribute("dir") == "ltr"

    page.select_option("select[name=language]", "fa")
    page.click("main form button[type=submit]")

    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_nav_label(page, "home", "خانه")
    assert_nav_label(page, "settings", "تنظیمات")
