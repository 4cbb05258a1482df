"""Reading an uploaded file into a header row and rows of text, for any record type: CSV (any delimiter,
UTF-8, UTF-16 or Windows-1252), XLSX (the first sheet) and vCard (neutral person fields). Limits are checked
before any parser sees the file; rows that do not fit the header are reported as that row's error."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class ImportRefused(Exception):
    """The file is refused before parsing (size, rows, format); the message says why."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numbers: list[int]  # the number the user finds each row under: spreadsheet row, or card
    problems: list[dict] = field(default_factory=list)  # [{"row": n, "errors": [...]}] rows that were not read
    warnings: list[dict] = field(default_factory=list)  # [{"row": n, "message": ...}] read with a change
    skipped: int = 0  # cards that are not records of this kind (contact groups...)


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix in ("xlsx", "vcf", "vcard"):
        return "vcf" if suffix == "vcard" else suffix
    raise ImportRefused(_("Unsupported file type. Upload a .csv, .xlsx or .vcf file."))


def check_limits(uploaded, fmt: str) -> None:
    """Refuse what is too big before any parser sees it."""
    if uploaded.size > settings.IMPORT_MAX_BYTES:
        raise ImportRefused(_("The file is %(size)s MB; the limit is %(limit)s MB.") % {
            "size": round(uploaded.size / 1048576, 1), "limit": round(settings.IMPORT_MAX_BYTES / 1048576, 1)})
    if fmt == "xlsx":
        uploaded.seek(0)
        try:
            with zipfile.ZipFile(uploaded) as archive:
                unzipped = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:
            raise ImportRefused(_("This is not a valid XLSX file.")) from None
        finally:
            uploaded.seek(0)
        if unzipped > settings.IMPORT_MAX_UNZIPPED_BYTES:
            raise ImportRefused(_("The XLSX file unpacks to %(size)s MB, more than the allowed %(limit)s MB.") % {
                "size": round(unzipped / 1048576), "limit": round(settings.IMPORT_MAX_UNZIPPED_BYTES / 1048576)})


def decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Outlook and older Excel write the Windows code page of the machine; for our languages, 1252.
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the candidate that appears most often outside quotes. Sniffing a
    sample of the whole file guessed wrong on files whose later cells hold doubled quotes."""
    counts = dict.fromkeys((",", ";", "\t", "|"), 0)
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


def _looks_binary(text: str) -> bool:
    """A decoded "CSV" that is not text (an image or a program renamed .csv): NUL characters, which no text
    file in our encodings holds, or many control and undecodable characters."""
    sample = text[:65536]
    if "\x00" in sample:
        return True
    odd = sum(1 for ch in sample if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n"))
    return odd > max(8, len(sample) // 100)


def read_csv(data: bytes) -> Table:
    text = decode(data)
    if _looks_binary(text):
        raise ImportRefused(_("This file is not a CSV text file. Export it again as CSV, or upload the .xlsx file."))
    # skipinitialspace: Vtiger 7.0/7.1 joins its header with '", "', and a quote after the space still
    # opens a quoted cell; cells are stripped anyway.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), quotechar='"',
                        doublequote=True, strict=False, skipinitialspace=True)
    rows = list(reader)
    return _table(rows, lambda i: i + 1)


def read_xlsx(data: bytes) -> Table:
    """The first sheet, each cell as the value the spreadsheet program last saved: formulas are never run.
    A formula with no saved result (a file written by a script and never opened in a spreadsheet program)
    refuses the file, since its cell would silently import empty."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        unsaved = _formula_without_result(data, getattr(book.worksheets[0], "_worksheet_path", ""))
        if unsaved:
            raise ImportRefused(_("Cell %(cell)s holds a formula whose result the file does not keep, and formulas "
                                  "are never run here. Open the file in your spreadsheet program and save it again, "
                                  "or paste the values.") % {"cell": unsaved})
        rows = []
        for values in book.worksheets[0].iter_rows(values_only=True):
            if len(rows) > settings.IMPORT_MAX_ROWS + 1:
                break
            rows.append(["" if v is None else _cell(v) for v in values])
        book.close()
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001 - any unreadable workbook or sheet (the sheet is parsed while read)
        raise ImportRefused(_("This is not a valid XLSX file.")) from None
    # Cells are positional in a sheet, so a short row only lacks its empty trailing cells: pad it.
    width = max((len(r) for r in rows), default=0)
    return _table([r + [""] * (width - len(r)) for r in rows], lambda i: i + 1)


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _formula_without_result(data: bytes, path: str) -> str:
    """The reference ("C2") of the sheet's first formula cell with no saved result, else "". A result that is
    an empty string is saved as one (t="str"); openpyxl and other scripts write an empty <v/> instead. The sheet
    is read as a stream, and not at all past a quick look when its XML has no formula element."""
    from openpyxl.xml.functions import iterparse  # the parser openpyxl reads the sheet with

    path = (path or "xl/worksheets/sheet1.xml").lstrip("/")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        tail = b""
        with archive.open(path) as sheet:
            while chunk := sheet.read(1 << 20):
                if _FORMULA_ELEMENT.search(tail + chunk):
                    break
                tail = chunk[-16:]
            else:
                return ""
        with archive.open(path) as sheet:
            for _event, element in iterparse(sheet):
                tag = element.tag.rsplit("}", 1)[-1]
                if tag == "c":
                    children = {child.tag.rsplit("}", 1)[-1]: child for child in element}
                    if "f" in children and not (children.get("v") is not None and children["v"].text) and (
                            element.get("t") not in ("str", "inlineStr")):
                        return element.get("r") or "?"
                elif tag == "row":
                    element.clear()
    return ""


def _cell(value) -> str:
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()  # a date cell: spreadsheets keep every date as a date-time
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _number(value)


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if isinstance(value, float) and "." in text and "e" not in text and len(text.rsplit(".", 1)[1]) == 3:
        # "123.456" reads as a thousands group in Finnish; the cell is a number, so say it is a decimal one.
        text += "0"
    return text


def _table(rows: list[list[str]], number) -> Table:
    """The header row, then every non-empty row as wide as the header. A row of another width would shift
    every later value one column, so it is reported as that row's error instead of being padded or cut;
    trailing one-cell lines after the data (a report's footer) are left out with a warning."""
    numbered = [(number(i), row) for i, row in enumerate(rows) if "".join(row).strip()]
    if not numbered:
        return Table([], [], [])
    (_n, header), body = numbered[0], numbered[1:]
    headers = [h.strip() for h in header]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    footer = 0
    while body and width > 1 and len([c for c in body[-1][1] if c.strip()]) == 1 and len(body[-1][1]) < width:
        body.pop()
        footer += 1
    table = Table(headers, [], [])
    for row_number, row in body:
        if len(row) > width and not "".join(row[width:]).strip():
            row = row[:width]  # a trailing delimiter
        if len(row) != width:
            table.problems.append({"row": row_number, "errors": [
                ngettext("This row has %(n)s cell; the header row has %(width)s.",
                         "This row has %(n)s cells; the header row has %(width)s.", len(row))
                % {"n": len(row), "width": width}]})
            continue
        table.rows.append(row)
        table.numbers.append(row_number)
    if footer:
        table.warnings.append({"row": 0, "message": ngettext(
            "%(n)s line at the end of the file is not a row (a report's footer) and was left out.",
            "%(n)s lines at the end of the file are not rows (a report's footer) and were left out.", footer)
            % {"n": footer}})
    return table


def read_vcards(data: bytes) -> Table:
    """Cards as rows of neutral person fields. Contact groups and organisation cards are not people: they are
    counted as skipped, with a warning each."""
    from crm.imports import vcard

    cards = vcard.parse_vcards(data)
    people = [c for c in cards if c.kind == vcard.INDIVIDUAL]
    headers = sorted({k for c in people if not c.errors for k in c.fields})
    table = Table(headers, [], [])
    for card in cards:
        for message in card.warnings if card.kind == vcard.INDIVIDUAL else ():  # a skipped card: only that
            table.warnings.append({"row": card.index, "message": message})
        if card.kind != vcard.INDIVIDUAL:
            table.skipped += 1
            table.warnings.append({"row": card.index, "message": (
                _("Card %(index)s is a contact group, not a person: skipped.") if card.kind == vcard.GROUP
                else _("Card %(index)s describes an organisation, not a person: skipped.")) % {"index": card.index}})
            continue
        if card.errors:
            table.problems.append({"row": card.index, "errors": card.errors})
            continue
        table.rows.append([card.fields.get(h, "") for h in headers])
        table.numbers.append(card.index)
    return table


def read(data: bytes, fmt: str) -> Table:
    if fmt == "csv":
        return read_csv(data)
    if fmt == "xlsx":
        return read_xlsx(data)
    return read_vcards(data)
