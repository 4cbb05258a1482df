"""The shared export writer never lets a spreadsheet run a cell."""
import csv
import io

import pytest
from openpyxl import load_workbook

from crm.core.export import csv_bytes, safe_text, xlsx_bytes

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


def test_xlsx_never_contains_a_formula():
    body = xlsx_bytes(["name", "n"], [[v, -3] for v in HOSTILE] + [["=1+1", 1]])
    sheet = load_workbook(io.BytesIO(body)).active

    values = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert values[0][0] == "'=HYPERLINK(\"http://x\")"
    assert values[-1] == ("'=1+1", 1)
    assert values[1][1] == -3  # negative numbers are numbers, not formulas
