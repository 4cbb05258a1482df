"""The four record lists in a real browser, clicking what a user clicks: every column header both ways,
Export CSV and XLSX (also after a live filter), the column chooser and a saved view, Next and Previous,
and a phone number that reads left to right on a Persian page."""
import csv
import io

import openpyxl
import pytest
from django.db import models
from django.urls import reverse
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD, AdminFactory
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from crm.lists.tests.conftest import (
    LIST_URLS,
    RECORD_TYPES,
    bulk,
    create,
    make_related,
    make_varied,
    record_type,
)
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]

PHONE = "+358 40 123 4567"


@pytest.fixture
def admin():
    """A user who sees every record of every type."""
    return AdminFactory(email="lists.admin@example.com")


def column_texts(page, column: str) -> list[str]:
    """The texts of one column's cells, top to bottom."""
    return page.evaluate("""(name) => {
        const ths = [...document.querySelectorAll("table[data-list] thead th")];
        const i = ths.findIndex(th => th.dataset.column === name);
        return [...document.querySelectorAll("table[data-list] tbody tr")].map(tr => tr.children[i].textContent.trim());
    }""", column)


def header_names(page) -> list[str]:
    return page.eval_on_selector_all("table[data-list] thead th[data-column]", "ths => ths.map(th => th.dataset.column)")


def is_plain_text(url_name: str, column: str) -> bool:
    """A column whose cells show the value itself, so the browser's texts must be in sorted() order."""
    try:
        field = record_type(url_name).model._meta.get_field(column)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(field, models.CharField) and not field.choices


def test_clicking_every_column_header_sorts_the_rows_both_ways(page, live_server, admin):
    related = make_related()
    for url_name in LIST_URLS:
        make_varied(url_name, 10, related)
    login(page, live_server, admin.email, PASSWORD)
    for url_name in LIST_URLS:
        page.goto(live_server.url + reverse(url_name))
        check_every_header(page, url_name)


def check_every_header(page, url_name: str) -> None:
    columns = header_names(page)
    first = columns[0]
    assert len(columns) >= 7, url_name
    for column in columns:
        header = page.locator(f'table[data-list] th[data-column="{column}"]')
        texts = {}
        for _click in range(2):
            before = header.get_attribute("aria-sort")
            header.locator("a").click()
            expect(header).to_have_attribute("aria-sort", "descending" if before == "ascending" else "ascending")
            texts[header.get_attribute("aria-sort")] = (column_texts(page, column), column_texts(page, first))
        (up, up_first), (down, down_first) = texts["ascending"], texts["descending"]
        # Empty cells last both ways; the rest the other way round
        full_up, full_down = [t for t in up if t], [t for t in down if t]
        where = (url_name, column)
        assert up == full_up + [""] * (len(up) - len(full_up)), (where, up)
        assert down == full_down + [""] * (len(down) - len(full_down)), (where, down)
        assert full_down == list(reversed(full_up)), where
        assert up_first != down_first, f"{where}: the rows did not change order"
        if is_plain_text(url_name, column):
            assert full_up == sorted(full_up), (where, full_up)
        if column == first:
            assert up_first == sorted(up_first) and down_first == sorted(down_first, reverse=True), where


def _download(page, selector: str):
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    with open(download.path(), "rb") as handle:
        return download.suggested_filename, handle.read()


def test_export_csv_and_xlsx_download_the_list_also_after_a_live_filter(page, live_server, admin):
    for url_name in LIST_URLS:
        bulk(url_name, 4, admin, name="Alpha")
        bulk(url_name, 3, admin, name="Beta")
    login(page, live_server, admin.email, PASSWORD)
    for url_name in LIST_URLS:
        page.goto(live_server.url + reverse(url_name))
        check_exports(page)


def check_exports(page) -> None:
    name, content = _download(page, "[data-export=csv]")
    assert name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert "Owner" in rows[0] and len(rows) == 8
    name, content = _download(page, "[data-export=xlsx]")
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert "Owner" in [c.value for c in sheet[1]] and sheet.max_row == 8
    # When the reader searches (the results change in place), the export is of what they now see
    with page.expect_response(lambda r: "q=Beta" in r.url and "count=1" not in r.url):
        page.fill("#list-q", "Beta")
        page.press("#list-q", "Enter")
    expect(page.locator("table[data-list] tbody tr")).to_have_count(3)
    # ... (the swapped results bring a new column chooser, draggable again)
    assert page.evaluate("() => document.querySelector('[data-column-chooser] [data-sortable]').dataset.sortableReady") == "1"
    _name, content = _download(page, "[data-export=csv]")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 4 and all(any("Beta" in cell for cell in row) for row in rows[1:])


def test_choose_and_order_columns_save_the_view_and_reopen_it(page, live_server, admin):
    for url_name in LIST_URLS:
        bulk(url_name, 3, admin)
    login(page, live_server, admin.email, PASSWORD)
    for url_name in LIST_URLS:
        check_column_chooser(page, live_server.url + reverse(url_name))


def check_column_chooser(page, list_url: str) -> None:
    page.goto(list_url)
    default = header_names(page)
    dropped, moved = default[1], default[3]
    chooser = page.locator("[data-column-chooser]")
    page.click("details[data-columns] > summary")
    assert page.evaluate("() => !!window.Sortable && document.querySelector('[data-column-chooser] [data-sortable]')"
                         ".dataset.sortableReady === '1'")
    # Untick one column
    chooser.locator(f'input[name=cols][value="{default[1]}"]').uncheck()
    # Move another up, from the keyboard: the button keeps the focus, and can be pressed again
    up = chooser.locator(f'li[data-column-choice="{moved}"] [data-move=up]')
    up.focus()
    page.keyboard.press("Enter")
    assert page.evaluate(f"""() => document.activeElement.closest("li").dataset.columnChoice === "{moved}" &&
                             document.activeElement.dataset.move === "up" """)
    status = chooser.locator("[data-move-status]")
    assert "position 3 of" in status.text_content()
    order = page.eval_on_selector_all("[data-column-chooser] li[data-column-choice]", "lis => lis.map(li => li.dataset.columnChoice)")
    assert order[2] == moved and order[3] == default[2]
    expected = [c for c in order if c != dropped and c in default]
    chooser.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert header_names(page) == expected
    # Save the view with a name
    page.click("details[data-save-view] > summary")
    page.fill("#id_view_name", "My columns")
    page.click("details[data-save-view] button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator('[data-saved-view="My columns"]')).to_be_visible()
    # Go to the plain list, open the view: exactly those columns in that order
    page.goto(list_url)
    assert header_names(page) == default
    page.click('[data-saved-view="My columns"] a')
    page.wait_for_load_state()
    assert header_names(page) == expected
    # Dragging a column by its handle reorders the list too (SortableJS)
    page.click("details[data-columns] > summary")
    handles = chooser.locator("[data-drag-handle]")
    handles.nth(0).drag_to(chooser.locator("li[data-column-choice]").nth(2))
    dragged = page.eval_on_selector_all("[data-column-chooser] li[data-column-choice]", "lis => lis.map(li => li.dataset.columnChoice)")
    assert dragged[0] != expected[0]
    chooser.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert header_names(page) == [c for c in dragged if c in expected]


def test_next_and_previous_on_every_list(page, live_server, admin):
    for url_name in LIST_URLS:
        bulk(url_name, 55, admin)
    login(page, live_server, admin.email, PASSWORD)
    for url_name in LIST_URLS:
        page.goto(live_server.url + reverse(url_name))
        rows = page.locator("table[data-list] tbody tr")
        expect(rows).to_have_count(50)
        first_rows = page.locator("table[data-list] tbody").text_content()
        page.click("[data-page=next]")
        expect(page.locator("[data-page-number]")).to_have_attribute("data-page-number", "2")
        expect(rows).to_have_count(5)
        assert page.locator("[data-page=next]").count() == 0
        page.click("[data-page=previous]")
        expect(page.locator("[data-page-number]")).to_have_attribute("data-page-number", "1")
        expect(rows).to_have_count(50)
        assert page.locator("table[data-list] tbody").text_content() == first_rows
        assert page.locator("[data-page=previous]").count() == 0


def test_a_phone_number_reads_left_to_right_on_a_persian_page(page, live_server):
    admin = AdminFactory(email="lists.fa@example.com", language="fa")
    for url_name in LIST_URLS:
        CustomFieldFactory(record_type=RECORD_TYPES[url_name], name="direct_line", label="Direct line",
                           field_type=FieldType.PHONE, show_in_list=True)
        values = {"owner": admin, "custom": {"direct_line": PHONE}}
        if url_name in ("accounts:list", "contacts:list"):
            values["phone"] = PHONE
        create(url_name, **values)
    login(page, live_server, admin.email, PASSWORD)
    for url_name in LIST_URLS:
        page.goto(live_server.url + reverse(url_name))
        assert page.locator("html").get_attribute("dir") == "rtl"
        cells = page.evaluate("""() => [...document.querySelectorAll("table[data-list] tbody td bdi")]
            .map(el => [el.textContent, el.getAttribute("dir"), getComputedStyle(el).direction,
                        getComputedStyle(el.closest("td")).direction])""")
        phones = [c for c in cells if c[0] == PHONE]
        assert len(phones) == (2 if url_name in ("accounts:list", "contacts:list") else 1), (url_name, cells)
        for _text, attribute, direction, cell_direction in phones:
            assert (attribute, direction, cell_direction) == ("ltr", "ltr", "rtl")


def test_a_record_picker_in_the_filters_finds_records_as_the_user_types(page, live_server, admin):
    from accounts.models import Account

    wanted = Account.objects.create(name="Lindqvist Logistics", owner=admin)
    Account.objects.create(name="Other Oy", owner=admin)
    create("contacts:list", owner=admin, last_name="Picked", account=wanted)
    create("contacts:list", owner=admin, last_name="Elsewhere")
    login(page, live_server, admin.email, PASSWORD)
    page.goto(live_server.url + reverse("contacts:list"))
    rows = page.locator("table[data-list] tbody tr")
    expect(rows).to_have_count(2)
    # When the user types part of an account's name into the Account filter
    picker = page.locator("select[name=account] + .ts-wrapper")
    picker.locator("input").fill("lindq")
    # Then the picker offers it (from the lookup), and choosing it filters the list
    option = picker.locator(".ts-dropdown .option", has_text="Lindqvist Logistics")
    expect(option).to_be_visible()
    expect(picker.locator(".ts-dropdown .option", has_text="Other Oy")).to_have_count(0)
    option.click()
    expect(rows).to_have_count(1)
    assert "Picked" in rows.first.text_content()
