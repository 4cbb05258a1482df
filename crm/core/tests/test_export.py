"""The shared export writer never lets a spreadsheet run a cell."""
import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from crm.core.export import csv_bytes, csv_stream, safe_text, unguard, xlsx_bytes

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "\0NUL", "plain", "a=b"]


@pytest.mark.parametrize("value", HOSTILE[:7])
def test_dangerous_prefixes_get_an_apostrophe(value):
    assert safe_text(value) == "'" + value


def test_harmless_text_is_unchanged():
    assert safe_text("plain") == "plain" and safe_text("a=b") == "a=b" and safe_text(None) == ""


def test_csv_cells_are_escaped_and_numbers_stay_numbers():
    body = csv_bytes(["name", "amount"], [[v, 5] for v in HOSTILE]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))

    assert rows[0] == ["name", "amount"]
    assert [r[0] for r in rows[1:8]] == ["'" + v for v in HOSTILE[:7]]
    assert rows[8] == ["plain", "5"]


def test_xlsx_cells_are_text_never_formulas_and_carry_no_apostrophe():
    """In XLSX a string cell is text: it cannot run, so it needs no guard (Excel would show the apostrophe)."""
    body = xlsx_bytes(["name", "n", "when"], [[v, -3, date(2026, 12, 1)] for v in HOSTILE] + [["=1+1", 1, None]])
    sheet = load_workbook(io.BytesIO(body)).active

    values = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert values[0][0] == "=HYPERLINK(\"http://x\")" and values[1][0] == "+1+1"
    assert values[-1][:2] == ("=1+1", 1)
    assert values[1][1] == -3  # negative numbers are numbers, not formulas
    assert values[0][2].date() == date(2026, 12, 1)  # dates are dates
    assert "\0NUL" not in [v[0] for v in values] and "NUL" in [v[0] for v in values]  # XML cannot hold NUL


@pytest.mark.parametrize("value", HOSTILE)
def test_the_csv_guard_comes_off_on_import(value):
    assert unguard(safe_text(value)) == value
    assert unguard("'quoted'") == "'quoted'"  # an apostrophe the guard did not add stays


def test_csv_streams_in_chunks():
    chunks = list(csv_stream(["n"], ([i] for i in range(1200)), chunk_rows=500))
    assert len(chunks) == 3 and b"".join(chunks).decode("utf-8-sig").splitlines()[-1] == "1199"
