"""Products on an opportunity in a real browser: an admin creates a product and gives it a price in the standard
book; a rep adds it to an opportunity as a line (picked with the type-ahead, the list price filled in from the
book), is told off for a discount over 100 %, saves, and sees the opportunity's amount become the line's total;
then removes the line."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD, AdminFactory
from opportunities.models import LineItem, Product
from opportunities.tests.factories import OpportunityFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_admin_prices_a_product_and_a_rep_adds_it_to_an_opportunity(page, live_server, reps):
    rep, _, _ = reps
    admin = AdminFactory(email="admin@example.com")
    deal = OpportunityFactory(owner=rep, name="Nordic Steel platform", amount=Decimal("5000"), currency="EUR",
                              close_date=datetime.date.today() + datetime.timedelta(days=40))

    # the admin: a new product, then its price in the standard EUR book
    login(page, live_server, admin.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:product_list"))
    page.get_by_role("link", name="New product").click()
    page.fill("#id_code", "LIC-PRO")
    page.fill("#id_name", "Professional licence")
    page.fill("#id_family", "Licences")
    page.locator("[data-testid=save]").click()
    expect(page.locator("h1")).to_contain_text("Professional licence")
    prices = page.locator("[data-testid=add-price]")
    prices.locator("select[name=price_book]").select_option(label="Standard price book (EUR)")
    prices.locator("input[name=unit_price]").fill("960")
    prices.get_by_role("button", name="Add price").click()
    expect(page.locator("[data-testid=product-prices]")).to_contain_text("€960.00")

    # the rep: the opportunity's products panel
    page.context.clear_cookies()
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))
    expect(page.locator("[data-testid=opportunity-amount]")).to_contain_text("€5,000.00")
    panel = page.locator("[data-testid=line-items]")
    expect(panel).to_contain_text("No products yet.")
    panel.locator("[data-testid=add-line]").click()
    form = panel.locator("[data-testid=line-form]")
    picker = form.locator("select[name=product] + .ts-wrapper")
    picker.click()
    picker.locator("input").fill("profess")
    picker.locator(".ts-dropdown .option", has_text="Professional licence").click()
    expect(form.locator("input[name=list_price]")).to_have_value("960.00")  # from the book
    expect(form.locator(".ts-wrapper")).to_have_count(1)  # the re-drawn form has its type-ahead again
    form.locator("input[name=quantity]").fill("3")
    form.locator("input[name=discount_percent]").fill("120")
    form.locator("[data-testid=save-line]").click()
    expect(form).to_contain_text("The discount must be between 0 and 100 %.")
    expect(form.locator(".ts-wrapper")).to_have_count(1)
    expect(form.locator(".ts-wrapper")).to_contain_text("Professional licence")
    assert not LineItem.objects.exists()

    form.locator("input[name=discount_percent]").fill("10")
    form.locator("[data-testid=save-line]").click()
    expect(page.locator("[data-testid=opportunity-amount]")).to_contain_text("€2,592.00")
    expect(panel.locator("[data-testid=lines-total]")).to_have_text("€2,592.00")
    expect(panel.locator("[data-testid=line-table] tbody tr")).to_have_count(1)
    deal.refresh_from_db()
    assert deal.amount == Decimal("2592.00") and deal.amount_corporate == Decimal("2592.00")

    # removing the only line leaves the amount as it stands
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Remove").click()
    expect(panel).to_contain_text("No products yet.")
    expect(page.locator("[data-testid=opportunity-amount]")).to_contain_text("€2,592.00")
    assert not LineItem.objects.exists() and Product.objects.get().is_active
