"""Products and price books: who reads and who edits them, search and filters, deactivation, the standard book per
currency, prices added to books; query budgets on the pages."""
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.access.models import AuditLog, ObjectPermission
from crm.access.tests.factories import AdminFactory, ProfileFactory, UserFactory
from opportunities import products
from opportunities.models import PriceBook, PriceBookEntry, Product

pytestmark = pytest.mark.django_db


def make(code, name, family="Licences", active=True, **prices):
    product = Product.objects.create(code=code, name=name, family=family, is_active=active)
    for book, price in prices.items():
        PriceBookEntry.objects.create(price_book=PriceBook.objects.get(currency=book.upper(), is_standard=True),
                                      product=product, unit_price=Decimal(price))
    return product


@pytest.fixture
def usd_book():
    return PriceBook.objects.create(name="Standard (USD)", currency="USD", is_standard=True)


def test_the_standard_book_in_the_corporate_currency_is_seeded():
    book = products.standard_book("eur")
    assert book is not None and book.is_standard and book.currency == "EUR"


def test_reps_who_view_opportunities_read_products_but_cannot_edit(client):
    rep = UserFactory()
    product = make("LIC-1", "Core licence", eur="100")
    client.force_login(rep)
    assert client.get(reverse("opportunities:product_list")).status_code == 200
    page = client.get(reverse("opportunities:product_detail", args=[product.pk])).content.decode()
    assert "Core licence" in page and "€100.00" in page and "Deactivate" not in page
    assert client.get(reverse("opportunities:product_create")).status_code == 404
    assert client.post(reverse("opportunities:product_toggle", args=[product.pk]), {"active": "0"}).status_code == 404
    assert client.post(reverse("opportunities:product_detail", args=[product.pk]), {}).status_code == 404
    assert client.get(reverse("opportunities:price_book_create")).status_code == 404
    assert Product.objects.get().is_active


def test_users_who_cannot_view_opportunities_do_not_see_products(client):
    rep = UserFactory()
    ObjectPermission.objects.filter(profile=rep.profile, record_type="opportunities.opportunity").update(can_view=False)
    client.force_login(rep)
    assert client.get(reverse("opportunities:product_list")).status_code == 404
    assert client.get(reverse("opportunities:price_book_list")).status_code == 404


def test_the_list_searches_and_filters_by_family_and_active(client, django_assert_max_num_queries):
    for i in range(30):
        make(f"SRV-{i}", f"Service {i}", family="Services")
    make("LIC-CORE", "Core licence")
    make("LIC-OLD", "Old licence", active=False)
    make("SUP-1", "Support", family="Support")
    client.force_login(UserFactory())
    url = reverse("opportunities:product_list")

    def names(**query):
        response = client.get(url, query)
        return [p.name for p in response.context["page"]]

    assert names(q="licence") == ["Core licence", "Old licence"]
    assert names(q="lic-core") == ["Core licence"]
    assert names(family="Support") == ["Support"]
    assert names(family="Licences", active="0") == ["Old licence"]
    assert len(names(family="Services", active="1")) == 30
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["page"]) == 33


def test_admin_creates_a_product_and_a_duplicate_code_is_refused(client):
    admin = UserFactory(profile=ProfileFactory(manage_customization=True))
    client.force_login(admin)
    response = client.post(reverse("opportunities:product_create"), {
        "code": "LIC-PRO", "name": "Pro licence", "family": "Licences", "description": "", "is_active": "on"})
    product = Product.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("opportunities:product_detail",
                                                                             args=[product.pk])
    assert AuditLog.objects.filter(data__what="product_created").exists()
    response = client.post(reverse("opportunities:product_create"), {"code": "LIC-PRO", "name": "Again"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Product.objects.count() == 1


def test_admin_adds_a_price_in_a_book_from_the_product_page(client, usd_book):
    product = make("LIC-PRO", "Pro licence")
    client.force_login(AdminFactory())
    response = client.post(reverse("opportunities:product_detail", args=[product.pk]),
                           {"price_book": usd_book.pk, "unit_price": "1080.00"})
    assert response.status_code == 302
    assert PriceBookEntry.objects.get(product=product).unit_price == Decimal("1080.00")
    response = client.post(reverse("opportunities:product_detail", args=[product.pk]),
                           {"price_book": usd_book.pk, "unit_price": "-1"})
    assert response.status_code == 200 and PriceBookEntry.objects.get().unit_price == Decimal("1080.00")


def test_admin_deactivates_a_product(client):
    product = make("LIC-OLD", "Old licence", eur="10")
    client.force_login(AdminFactory())
    client.post(reverse("opportunities:product_toggle", args=[product.pk]), {"active": "0"})
    product.refresh_from_db()
    assert not product.is_active
    assert products.prices_in(products.standard_book("EUR")) == {}  # no longer offered for new lines
    client.post(reverse("opportunities:product_toggle", args=[product.pk]), {"active": "1"})
    product.refresh_from_db()
    assert product.is_active and list(products.prices_in(products.standard_book("EUR"))) == [product.pk]


def test_a_second_standard_book_for_a_currency_is_refused(client, usd_book):
    client.force_login(AdminFactory())
    response = client.post(reverse("opportunities:price_book_create"), {
        "name": "Another", "currency": "USD", "is_standard": "on", "is_active": "on"})
    assert response.status_code == 200 and "USD already has a standard price book." in response.content.decode()
    response = client.post(reverse("opportunities:price_book_create"), {
        "name": "Partner (USD)", "currency": "USD", "is_active": "on"})
    assert response.status_code == 302
    assert PriceBook.objects.filter(currency="USD").count() == 2


def test_a_book_adds_products_with_prices_once_each(client, django_assert_max_num_queries):
    book = products.standard_book("EUR")
    product = make("LIC-1", "Core licence")
    inactive = make("LIC-2", "Old licence", active=False)
    client.force_login(AdminFactory())
    url = reverse("opportunities:price_book_detail", args=[book.pk])

    assert client.post(url, {"entry-product": product.pk, "entry-unit_price": "100", "entry-is_active": "on"}).status_code == 302
    again = client.post(url, {"entry-product": product.pk, "entry-unit_price": "90", "entry-is_active": "on"})
    assert "This product already has a price in this book." in again.content.decode()
    refused = client.post(url, {"entry-product": inactive.pk, "entry-unit_price": "90"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert list(book.entries.values_list("unit_price", flat=True)) == [Decimal("100.00")]

    for i in range(20):
        make(f"SRV-{i}", f"Service {i}", eur="50")
    with django_assert_max_num_queries(14):
        page = client.get(url)
    assert page.status_code == 200 and len(page.context["entries"]) == 21
    with django_assert_max_num_queries(12):
        assert client.get(reverse("opportunities:price_book_list")).status_code == 200


def test_a_price_is_changed_and_removed(client):
    product = make("LIC-1", "Core licence", eur="100")
    entry = PriceBookEntry.objects.get()
    client.force_login(AdminFactory())
    url = reverse("opportunities:price_entry_edit", args=[entry.pk])
    assert client.post(url, {"unit_price": "120", "is_active": "on"}).status_code == 302
    entry.refresh_from_db()
    assert entry.unit_price == Decimal("120") and entry.product == product
    assert client.post(url, {"delete": "1"}).status_code == 302
    assert not PriceBookEntry.objects.exists()


# --- import ---------------------------------------------------------------------------------------------------

def upload(client, name, content, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("opportunities:product_import"),
                       {"file": SimpleUploadedFile(name, content), **extra})


PRODUCTS_CSV = ("code;name;family;active;list price;currency\n"
                "LIC-PRO;Pro licence;Licences;yes;960;EUR\n"
                "SUP-STD;Standard support;Support;;1 700,50;USD\n"
                "LIC-OLD;Old licence;Licences;no;;\n")
BAD_CSV = ("code,name,active,list price,currency\n"
           "LIC-PRO,Pro licence,yes,960,EUR\n"
           ",Nameless,,,\n"
           "LIC-X,,,,\n"
           "lic-pro,Again,,,\n"
           "LIC-Y,Why,maybe,,\n"
           "LIC-Z,Zed,,-5,\n"
           "LIC-W,Wye,,10,NOK\n")


def test_admin_imports_products_with_prices_in_the_standard_books(client, usd_book):
    make("LIC-PRO", "Old name", eur="900")
    client.force_login(AdminFactory())
    response = upload(client, "products.csv", PRODUCTS_CSV.encode())
    assert response.status_code == 302
    assert {p.code: (p.name, p.is_active) for p in Product.objects.all()} == {
        "LIC-PRO": ("Pro licence", True), "SUP-STD": ("Standard support", True), "LIC-OLD": ("Old licence", False)}
    prices = {(e.product.code, e.price_book.currency): e.unit_price for e in PriceBookEntry.objects.select_related("product", "price_book")}
    assert prices == {("LIC-PRO", "EUR"): Decimal("960.00"), ("SUP-STD", "USD"): Decimal("1700.50")}


def test_a_products_file_with_bad_rows_names_each_and_writes_nothing_unless_asked(client):
    client.force_login(AdminFactory())
    page = upload(client, "products.csv", BAD_CSV.encode()).content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert not Product.objects.exists() and "Nothing was imported: 6 rows are bad." in page
    for line, text in [(3, "The product code is empty."), (4, "The name is empty."),
                       (5, "Row 2 already has the product code “lic-pro”."), (6, "“maybe” is not yes or no."),
                       (7, "The list price “-5” is not a number of zero or more."),
                       (8, "There is no standard price book in NOK.")]:
        assert f"Line {line}: {text}" in page, line
    response = upload(client, "products.csv", BAD_CSV.encode(), good_rows_only="on")
    assert "6 rows were skipped" in response.content.decode()
    assert list(Product.objects.values_list("code", flat=True)) == ["LIC-PRO"]


def test_products_are_imported_from_xlsx_and_only_by_admins(client):
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Product Code", "Product Name", "Product Family", "List Price"])
    book.active.append(["SRV-1", "Onboarding", "Services", 3200])
    data = io.BytesIO()
    book.save(data)
    client.force_login(UserFactory())
    assert upload(client, "p.xlsx", data.getvalue()).status_code == 404
    client.force_login(AdminFactory())
    assert upload(client, "p.xlsx", data.getvalue()).status_code == 302
    product = Product.objects.get()
    assert (product.code, product.family, product.prices.get().unit_price) == ("SRV-1", "Services", Decimal("3200.00"))
