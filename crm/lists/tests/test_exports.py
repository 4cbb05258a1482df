"""CSV and XLSX exports: the reader's filtered and sorted list, only what they may see, audited, with the
formula guard in CSV and plain text cells in XLSX, owners as emails, amounts as plain numbers in every
language, and streamed in chunks."""
import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.cache import cache
from django.urls import reverse

from crm.access.models import AuditLog
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from crm.lists.tests.conftest import (
    LIST_URLS,
    RECORD_TYPES,
    bulk,
    create,
    record_type,
    row_ids,
)

pytestmark = pytest.mark.django_db

NAME = {"leads:list": "last_name", "accounts:list": "name", "contacts:list": "last_name",
        "opportunities:list": "name"}
NAME_HEADER = {"leads:list": "Last name", "accounts:list": "Name", "contacts:list": "Last name",
               "opportunities:list": "Name"}
# An amount field of the type's own (contacts have none: a custom currency field serves them all).
AMOUNT = {"leads:list": ("annual_revenue", "Annual revenue"), "accounts:list": ("annual_revenue", "Annual revenue"),
          "opportunities:list": ("amount", "Amount")}
# Text the formula guard must catch, in fields each type exports.
FORMULAS = {
    "leads:list": {"last_name": "=1+2", "first_name": "-5", "company": "@SUM(A1)", "phone": "+358 40 123 4567"},
    "accounts:list": {"name": "=1+2", "phone": "+358 40 123 4567", "description": "@SUM(A1)", "billing_city": "-5"},
    "contacts:list": {"last_name": "=1+2", "first_name": "-5", "title": "@SUM(A1)", "phone": "+358 40 123 4567"},
    "opportunities:list": {"name": "=1+2", "lead_source": "+358 40 123 4567", "description": "@SUM(A1)"},
}


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [[cell.value for cell in row] for row in book.active.iter_rows()], book.active


def column(rows, header: str) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_exports_are_the_filtered_sorted_visible_list_and_are_audited(client, reps, url_name):
    rep, other, _ = reps
    bulk(url_name, 12, rep)
    bulk(url_name, 3, rep, name="Other name")
    bulk(url_name, 4, other)
    url = reverse(url_name)
    client.force_login(rep)
    query = {"q": "Row", "sort": f"-{NAME[url_name]}"}
    page = client.get(url, query)
    names = [getattr(record_type(url_name).model.objects.get(pk=pk), NAME[url_name]) for pk in row_ids(page)]
    assert len(names) == 12 and names == sorted(names, reverse=True)
    for fmt in ("csv", "xlsx"):
        response = client.get(url, {**query, "export": fmt})
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert f'.{fmt}"' in response["Content-Disposition"]
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)[0]
        assert column(rows, NAME_HEADER[url_name]) == names
        assert set(column(rows, "Owner")) == {rep.email}
    logs = AuditLog.objects.filter(action=AuditLog.Action.EXPORT, actor=rep, target_type=record_type(url_name).key)
    assert sorted(log.data["format"] for log in logs) == ["csv", "xlsx"]
    assert all("q=Row" in log.data["query"] for log in logs)
    # Exporting needs the right
    from crm.access.models import ObjectPermission

    ObjectPermission.objects.filter(profile=rep.profile, record_type=record_type(url_name).key).update(can_export=False)
    # The permissions are cached per process until a service says they changed; this process's keys only
    # (cache.clear() flushes the whole Redis database, every other test process's keys too).
    cache.delete_pattern("*")
    assert client.get(url, {"export": "csv"}).status_code == 404
    assert 'data-export="csv"' not in client.get(url).content.decode()


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_csv_guards_formulas_and_xlsx_keeps_them_as_plain_text(client, reps, url_name):
    rep = reps[0]
    create(url_name, owner=rep, **FORMULAS[url_name])
    client.force_login(rep)
    url = reverse(url_name)
    rows = csv_rows(client.get(url, {"export": "csv"}))
    (row,) = rows[1:]
    cells = set(row)
    for value in FORMULAS[url_name].values():
        assert "'" + value in cells and value not in cells, value
    rows, sheet = xlsx_rows(client.get(url, {"export": "xlsx"}))
    (row,) = rows[1:]
    for value in FORMULAS[url_name].values():
        assert value in row and "'" + value not in row, value
    for cell in sheet[2]:
        if cell.value in FORMULAS[url_name].values():
            assert cell.data_type == "s"  # text, never a formula
    assert column(rows, "Owner") == [rep.email]


@pytest.mark.parametrize("url_name", LIST_URLS)
@pytest.mark.parametrize("language", ["en", "fi", "fa"])
def test_amounts_are_plain_numbers_in_every_language(client, reps, url_name, language):
    rep = reps[0]
    rep.language = language
    rep.save()
    cf = CustomFieldFactory(record_type=RECORD_TYPES[url_name], name="deal_value", label="Deal value",
                            field_type=FieldType.CURRENCY, show_in_list=True)
    values = {"owner": rep, "custom": {"deal_value": "1234567.89"}}
    if url_name in AMOUNT:
        values[AMOUNT[url_name][0]] = Decimal("7654321.50")
    create(url_name, **values)
    client.force_login(rep)
    url = reverse(url_name)
    page = client.get(url).content.decode()
    assert 'data-export="csv"' in page
    headers = [cf.display_label] + ([AMOUNT[url_name][1]] if url_name in AMOUNT else [])
    rows = csv_rows(client.get(url, {"export": "csv"}))
    sheet_rows, _sheet = xlsx_rows(client.get(url, {"export": "xlsx"}))
    # The headers are in the reader's language: find the columns by position in the English export
    rep.language = "en"
    rep.save()
    english = csv_rows(client.get(url, {"export": "csv"}))
    for header in headers:
        index = english[0].index(header)
        expected = "1234567.89" if header == cf.display_label else "7654321.50"
        assert rows[1][index] == expected, (language, header)
        assert sheet_rows[1][index] == float(expected), (language, header)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_an_export_of_3000_rows_is_streamed_in_chunks(client, reps, url_name):
    rep = reps[0]
    bulk(url_name, 3000, rep)
    client.force_login(rep)
    url = reverse(url_name)
    response = client.get(url, {"export": "csv"})
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) > 3
    assert max(len(c) for c in chunks) < len(b"".join(chunks)) / 3
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == 3001
    xlsx = client.get(url, {"export": "xlsx"})
    assert xlsx.streaming
    assert xlsx_rows(xlsx)[1].max_row == 3001
