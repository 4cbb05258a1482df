"""An opportunity's line items: added, changed and removed through the products panel, the amount recalculated
through the opportunity service (event, trigger), bad input refused with nothing written, visibility, edit
rights, locks, inactive products, price books in the opportunity's currency; the detail page's query budget."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.access.models import FieldAccess, FieldPermission, ObjectPermission
from crm.core import locks
from crm.core.models import Event
from opportunities import line_items
from opportunities.currency import exchange_rate_save
from opportunities.models import ExchangeRate, LineItem, PriceBook, PriceBookEntry, Product, StageChange
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def priced(code, name, price, book=None, active=True):
    product = Product.objects.create(code=code, name=name, family="Licences", is_active=active)
    PriceBookEntry.objects.create(price_book=book or PriceBook.objects.get(currency="EUR", is_standard=True),
                                  product=product, unit_price=Decimal(price))
    return product


@pytest.fixture
def deal(reps):
    rep, _, _ = reps
    return OpportunityFactory(owner=rep, amount=Decimal("5000"), currency="EUR",
                              close_date=datetime.date.today() + datetime.timedelta(days=30))


def add(client, deal, **data):
    return client.post(reverse("opportunities:line_create", args=[deal.pk]), data, **HTMX)


def amount(deal):
    deal.refresh_from_db()
    return deal.amount


def test_a_line_from_the_book_sets_the_amount_through_the_service(client, reps, deal):
    rep, _, _ = reps
    product = priced("LIC-PRO", "Pro licence", "960.00")
    client.force_login(rep)

    form = client.get(reverse("opportunities:line_create", args=[deal.pk]), **HTMX)
    assert form.status_code == 200 and "Pro licence" in form.content.decode() and "<html" not in form.content.decode()
    response = add(client, deal, product=product.pk, quantity="25", list_price="", discount_percent="10")

    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    line = LineItem.objects.get()
    assert (line.name, line.list_price, line.total) == ("Pro licence", Decimal("960.00"), Decimal("21600.00"))
    assert amount(deal) == Decimal("21600.00") and deal.amount_corporate == Decimal("21600.00")
    assert Event.objects.filter(name="opportunity.updated", object_id=deal.pk).exists()
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert "€21,600.00" in page and "Line saved. The amount is now the sum of the lines." in page


def test_choosing_a_product_fills_in_its_book_price(client, reps, deal):
    rep, _, _ = reps
    product = priced("SRV-1", "Onboarding", "3200.00")
    client.force_login(rep)
    response = client.get(reverse("opportunities:line_create", args=[deal.pk]),
                          {"product": product.pk, "quantity": "1", "list_price": ""}, **HTMX)
    assert response.status_code == 200 and 'value="3200.00"' in response.content.decode()
    assert "invalid-feedback" not in response.content.decode()
    assert not LineItem.objects.exists()


def test_editing_and_removing_lines_recalculates_and_the_last_removal_keeps_the_amount(client, reps, deal):
    rep, _, _ = reps
    a = priced("A", "Alpha", "100.00")
    b = priced("B", "Beta", "50.00")
    client.force_login(rep)
    add(client, deal, product=a.pk, quantity="2", list_price="", discount_percent="0")
    add(client, deal, product=b.pk, quantity="3", list_price="40", discount_percent="50")
    assert amount(deal) == Decimal("260.00")  # 200 + 3 × 40 × 50 %

    line = LineItem.objects.get(product=b)
    response = client.post(reverse("opportunities:line_edit", args=[deal.pk, line.pk]),
                           {"product": b.pk, "quantity": "4", "list_price": "50", "discount_percent": "0"}, **HTMX)
    assert response.status_code == 204 and amount(deal) == Decimal("400.00")

    client.post(reverse("opportunities:line_remove", args=[deal.pk, line.pk]), **HTMX)
    assert amount(deal) == Decimal("200.00")
    client.post(reverse("opportunities:line_remove", args=[deal.pk, LineItem.objects.get().pk]), **HTMX)
    assert not LineItem.objects.exists() and amount(deal) == Decimal("200.00")


def test_an_opportunity_without_lines_keeps_its_typed_amount(client, reps, deal):
    rep, _, _ = reps
    client.force_login(rep)
    line_items.recalculate_amount(actor=rep, opportunity=deal)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert amount(deal) == Decimal("5000") and "€5,000.00" in page
    assert "No products yet." in page


@pytest.mark.parametrize("data, message", [
    ({"quantity": "-1"}, "The quantity must be more than zero."),
    ({"quantity": "0"}, "The quantity must be more than zero."),
    ({"discount_percent": "101"}, "The discount must be between 0 and 100 %."),
    ({"discount_percent": "-5"}, "The discount must be between 0 and 100 %."),
    ({"list_price": "-3"}, "The list price cannot be negative."),
    ({"quantity": "many"}, "Enter a number."),
    ({"product": ""}, "This field is required."),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(client, reps, deal, data, message):
    rep, _, _ = reps
    product = priced("A", "Alpha", "100.00")
    client.force_login(rep)
    response = add(client, deal, **{"product": product.pk, "quantity": "1", "list_price": "",
                                    "discount_percent": "0", **data})
    assert response.status_code == 200 and message in response.content.decode()
    assert not LineItem.objects.exists() and amount(deal) == Decimal("5000")


def test_an_inactive_product_is_not_offered_but_an_old_line_keeps_it(client, reps, deal):
    rep, _, _ = reps
    old = priced("OLD", "Legacy licence", "300.00")
    client.force_login(rep)
    add(client, deal, product=old.pk, quantity="1", list_price="", discount_percent="0")
    Product.objects.filter(pk=old.pk).update(is_active=False)

    assert "Legacy licence" not in client.get(reverse("opportunities:line_create", args=[deal.pk]),
                                              **HTMX).content.decode()
    refused = add(client, deal, product=old.pk, quantity="1", list_price="", discount_percent="0")
    assert "Select a valid choice" in refused.content.decode() and LineItem.objects.count() == 1

    line = LineItem.objects.get()
    response = client.post(reverse("opportunities:line_edit", args=[deal.pk, line.pk]),
                           {"product": old.pk, "quantity": "2", "list_price": "300", "discount_percent": "0"}, **HTMX)
    assert response.status_code == 204 and amount(deal) == Decimal("600.00")
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert "Legacy licence" in page and "Inactive" in page


def test_only_products_priced_in_the_opportunitys_book_are_offered(client, reps, deal):
    rep, _, _ = reps
    priced("EUR-1", "Euro thing", "10")
    usd = PriceBook.objects.create(name="Standard (USD)", currency="USD", is_standard=True)
    priced("USD-1", "Dollar thing", "12", book=usd)
    Product.objects.create(code="NONE", name="Unpriced thing")
    client.force_login(rep)
    page = client.get(reverse("opportunities:line_create", args=[deal.pk]), **HTMX).content.decode()
    assert "Euro thing" in page and "Dollar thing" not in page and "Unpriced thing" not in page


def test_a_line_in_another_currency_follows_the_rate_of_the_close_date(client, reps):
    rep, _, _ = reps
    usd = PriceBook.objects.create(name="Standard (USD)", currency="USD", is_standard=True)
    product = priced("USD-1", "Dollar thing", "1100", book=usd)
    exchange_rate_save(actor=None, rate=ExchangeRate(currency="USD", rate=Decimal("1.1"),
                                                     valid_from=datetime.date(2020, 1, 1)))
    deal = OpportunityFactory(owner=rep, currency="USD", amount=None, close_date=datetime.date(2026, 6, 1))
    client.force_login(rep)
    add(client, deal, product=product.pk, quantity="1", list_price="", discount_percent="0")
    deal.refresh_from_db()
    assert deal.amount == Decimal("1100.00") and deal.amount_corporate == Decimal("1000.00")
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert "€1,000.00" in page  # the corporate value under the lines


def test_the_price_book_must_be_in_the_opportunitys_currency(client, reps, deal):
    rep, _, _ = reps
    partner = PriceBook.objects.create(name="Partner", currency="EUR")
    dollars = PriceBook.objects.create(name="Dollars", currency="USD")
    priced("P-1", "Partner thing", "80", book=partner)
    client.force_login(rep)

    client.post(reverse("opportunities:line_price_book", args=[deal.pk]), {"price_book": partner.pk}, **HTMX)
    deal.refresh_from_db()
    assert deal.price_book == partner
    assert "Partner thing" in client.get(reverse("opportunities:line_create", args=[deal.pk]), **HTMX).content.decode()

    response = client.post(reverse("opportunities:line_price_book", args=[deal.pk]), {"price_book": dollars.pk})
    deal.refresh_from_db()
    assert response.status_code == 302 and deal.price_book == partner
    page = client.get(response["Location"]).content.decode()
    assert "The price book is in USD but the opportunity is in EUR" in page
    assert line_items.currency_change_problem(deal, "USD") is None  # no lines yet
    LineItem(opportunity=deal, name="x", list_price=1).save()
    assert "remove them before changing its currency" in line_items.currency_change_problem(deal, "USD")


def test_another_reps_opportunity_is_404_for_every_line_view(client, reps, deal):
    _, other, _ = reps
    product = priced("A", "Alpha", "100.00")
    LineItem(opportunity=deal, product=product, name="Alpha", list_price=100).save()
    line = LineItem.objects.get()
    client.force_login(other)
    assert client.get(reverse("opportunities:line_create", args=[deal.pk])).status_code == 404
    assert add(client, deal, product=product.pk, quantity="1").status_code == 404
    assert client.post(reverse("opportunities:line_remove", args=[deal.pk, line.pk])).status_code == 404
    assert client.post(reverse("opportunities:line_price_book", args=[deal.pk]), {}).status_code == 404
    assert LineItem.objects.count() == 1


def test_without_the_edit_right_the_panel_is_read_only(client, reps, deal):
    rep, _, _ = reps
    product = priced("A", "Alpha", "100.00")
    LineItem(opportunity=deal, product=product, name="Alpha", list_price=100).save()
    ObjectPermission.objects.filter(profile=rep.profile, record_type="opportunities.opportunity").update(can_edit=False)
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert 'data-testid="line-table"' in page and "Alpha" in page
    assert 'data-testid="add-line"' not in page and reverse("opportunities:line_remove", args=[deal.pk, 1])[:-9] not in page
    assert add(client, deal, product=product.pk, quantity="1").status_code == 404


def test_the_panel_is_left_out_when_the_amount_is_hidden(client, reps, deal):
    rep, _, _ = reps
    LineItem(opportunity=deal, name="Secret line", list_price=100).save()
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity", field_name="amount",
                                   access=FieldAccess.HIDDEN)
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert "Secret line" not in page and 'data-testid="line-items"' not in page
    assert client.get(reverse("opportunities:line_create", args=[deal.pk])).status_code == 404


@pytest.fixture
def locked():
    def check(record, user):
        return "Waiting for approval." if getattr(record, "name", "") == "Locked deal" else None

    locks.register_lock(check)
    yield
    locks._checks.remove(check)


def test_a_locked_opportunity_refuses_line_changes(client, reps, locked):
    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, name="Locked deal", amount=Decimal("5000"))
    product = priced("A", "Alpha", "100.00")
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert "Waiting for approval." in page and 'data-testid="add-line"' not in page
    response = add(client, deal, product=product.pk, quantity="1", list_price="", discount_percent="0")
    assert response.status_code == 200 and "Waiting for approval." in response.content.decode()
    assert not LineItem.objects.exists() and amount(deal) == Decimal("5000")


def test_the_stage_history_is_untouched_and_the_detail_page_keeps_its_query_budget(
        client, reps, deal, django_assert_max_num_queries):
    rep, _, _ = reps
    client.force_login(rep)
    for i in range(20):
        product = priced(f"P-{i}", f"Product {i}", "10")
        add(client, deal, product=product.pk, quantity="1", list_price="", discount_percent="0")
    assert amount(deal) == Decimal("200.00") and LineItem.objects.count() == 20
    assert not StageChange.objects.filter(opportunity=deal).exclude(from_stage=None).exists()
    with django_assert_max_num_queries(40) as captured:
        response = client.get(reverse("opportunities:detail", args=[deal.pk]))
    assert response.status_code == 200 and response.content.decode().count("data-line=") == 20
    line_queries = [q for q in captured.captured_queries if "opportunities_lineitem" in q["sql"]]
    assert len(line_queries) == 1
    assert not [q for q in captured.captured_queries if 'FROM "opportunities_product"' in q["sql"]]  # joined
    with django_assert_max_num_queries(12):
        assert client.get(reverse("opportunities:line_create", args=[deal.pk]), **HTMX).status_code == 200


def test_lines_in_a_currency_without_a_rate_show_no_rate_not_zero(client, reps):
    rep, _, _ = reps
    book = PriceBook.objects.create(name="Standard (JPY)", currency="JPY", is_standard=True)
    product = priced("JP-1", "Yen thing", "150000", book=book)
    deal = OpportunityFactory(owner=rep, currency="JPY", amount=None, close_date=datetime.date(2026, 6, 1))
    client.force_login(rep)
    add(client, deal, product=product.pk, quantity="2", list_price="", discount_percent="0")
    deal.refresh_from_db()
    assert deal.amount == Decimal("300000.00") and deal.amount_corporate is None
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    panel = page[page.index('data-testid="line-items"'):]
    assert "no rate" in panel[panel.index('data-testid="lines-corporate"'):][:200]


def test_a_price_book_left_in_another_currency_is_not_used(reps):
    rep, _, _ = reps
    dollars = PriceBook.objects.create(name="Dollars", currency="USD")
    deal = OpportunityFactory(owner=rep, currency="EUR", price_book=dollars)
    from opportunities.products import book_for

    assert book_for(deal) == PriceBook.objects.get(currency="EUR", is_standard=True)


def test_the_line_form_works_without_javascript(client, reps, deal):
    rep, _, _ = reps
    product = priced("A", "Alpha", "100.00")
    client.force_login(rep)
    page = client.get(reverse("opportunities:line_create", args=[deal.pk]))
    assert page.status_code == 200 and "<html" in page.content.decode() and "Alpha" in page.content.decode()
    response = client.post(reverse("opportunities:line_create", args=[deal.pk]),
                           {"product": product.pk, "quantity": "2", "list_price": "", "discount_percent": ""})
    assert response.status_code == 302 and response["Location"] == reverse("opportunities:detail", args=[deal.pk])
    assert amount(deal) == Decimal("200.00")
    line = LineItem.objects.get()
    response = client.post(reverse("opportunities:line_remove", args=[deal.pk, line.pk]))
    assert response.status_code == 302 and not LineItem.objects.exists()
