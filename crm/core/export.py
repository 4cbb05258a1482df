"""The one export writer every CSV/XLSX export goes through.

Spreadsheet programs run a cell that starts with = + - @ (and some treat a
leading tab, CR or NUL the same way), so such cells get a leading apostrophe.
XLSX cells are always written as typed values, never as formulas.
django-import-export's own escaping only strips a leading "=", which is not enough.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def _plain(value):
    """A value as a spreadsheet cell: numbers and dates stay typed, the rest is safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    if isinstance(value, (list, tuple)):
        return safe_text(", ".join(str(v) for v in value))
    return safe_text(value)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(h) for h in headers])
    for row in rows:
        writer.writerow([safe_text(v) if not isinstance(v, (int, float, Decimal)) or isinstance(v, bool) else v
                         for v in (_plain(c) for c in row)])
    # A BOM lets Excel open UTF-8 (Persian, Finnish) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Export")
    sheet.append([safe_text(h) for h in headers])
    from openpyxl.cell import WriteOnlyCell

    for row in rows:
        cells = []
        for value in row:
            value = _plain(value)
            if isinstance(value, str):
                # XLSX cannot hold control characters; drop them after escaping.
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                # Force the string type: openpyxl would otherwise treat "=..." as a formula.
                cell.data_type = TYPE_STRING
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_response(fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    if fmt == "xlsx":
        body, content_type, ext = xlsx_bytes(headers, rows), XLSX_CONTENT_TYPE, "xlsx"
    else:
        body, content_type, ext = csv_bytes(headers, rows), CSV_CONTENT_TYPE, "csv"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{ext}"'
    return response
