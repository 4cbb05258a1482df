"""Files that are too big or not what they claim are refused before anything is written, with a reason; formulas
are never run (an XLSX cell imports as the value the spreadsheet saved, or the file is refused); text that looks
like a formula is imported as text."""
import io
import random
import struct
import zipfile

import pytest
from django.urls import reverse

from crm.core.export import xlsx_bytes
from crm.imports.models import ImportJob
from crm.imports.tests.pages import XLSX, import_file, rewrite_sheet, upload, workbook
from leads.models import Lead

CSV = b"Last name,Email\nLaine,a@laine.fi\nVirtanen,m@virtanen.fi\nAhmadi,s@example.ir\nKarimi,l@example.ir\n"
EVIL = "=cmd|' /C calc'!A0"


def sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def refused(client, name, data, content_type="text/csv") -> str:
    response = upload(client, "leads", name, data, content_type)
    assert response.status_code == 422
    return response.content.decode()


@pytest.mark.django_db
def test_too_large_and_too_many_rows_are_refused_before_parsing(client, rep, settings):
    settings.IMPORT_MAX_BYTES = 50
    assert "the limit is" in refused(client, "big.csv", CSV)
    settings.IMPORT_MAX_BYTES = 10_000_000
    settings.IMPORT_MAX_ROWS = 3
    assert "more than 3 rows" in refused(client, "rows.csv", CSV)
    rows = [("Last name", "Email")] + [(f"L{i}", f"l{i}@example.com") for i in range(10)]
    assert "more than 3 rows" in refused(client, "rows.xlsx", workbook(*rows), XLSX)
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_by_its_unpacked_size_and_cannot_lie_about_it(client, rep, settings):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 1024 * 1024
    padding = b" " * (3 * 1024 * 1024)  # 3 MB of spaces pack to a few kilobytes
    bomb = rewrite_sheet(workbook(("Last name",), ("Laine",)), lambda xml: xml.replace(b"<sheetData>",
                                                                                       padding + b"<sheetData>"))
    assert len(bomb) < 100_000
    assert "unpacks to 3 MB" in refused(client, "bomb.xlsx", bomb, XLSX)
    # the same archive declaring a small size for its sheet: reading stops there and the file is refused
    liar = bytearray(bomb)
    name = b"xl/worksheets/sheet1.xml"
    at = liar.find(b"PK\x01\x02")  # the central directory's entries
    while at != -1:
        if liar[at + 46:at + 46 + len(name)] == name:
            liar[at + 24:at + 28] = struct.pack("<I", 1000)
        at = liar.find(b"PK\x01\x02", at + 4)
    assert "This is not a valid XLSX file." in refused(client, "liar.xlsx", bytes(liar), XLSX)
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_binary_garbage_is_refused(client, rep):
    rng = random.Random(2026)
    garbage = bytes(rng.randrange(256) for _ in range(4096))
    assert "not a CSV text file" in refused(client, "garbage.csv", garbage)
    assert "not a CSV text file" in refused(client, "nul.csv", b"Last name,Email\nLaine\x00,a@laine.fi\n")
    assert "This is not a valid XLSX file." in refused(client, "garbage.xlsx", garbage, XLSX)
    assert "This is not a valid XLSX file." in refused(
        client, "truncated.xlsx", rewrite_sheet(workbook(("Last name",), ("Laine",)), lambda xml: xml[:300]), XLSX)
    assert "no vCards" in refused(client, "garbage.vcf", garbage, "text/vcard")
    assert "The submitted file is empty." in refused(client, "empty.csv", b"")
    assert "The file has no rows to import." in refused(client, "header.csv", b"Last name,Email\n")
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_formula_is_never_run(client, rep):
    # given a workbook written by a script: its formula has no saved result
    data = workbook(("Last name", "Email", "Employees"), ("Laine", "a@laine.fi", "=1+1"))
    # then the file is refused, naming the cell
    page = refused(client, "formula.xlsx", data, XLSX)
    assert "Cell C2 holds a formula" in page and "never run" in page
    # given the same formula as a spreadsheet program saves it, with its result
    saved = rewrite_sheet(data, lambda xml: xml.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
                          .replace(b"<f>1+1</f><v/>", b"<f>1+1</f><v>2</v>"))
    job = import_file(client, "leads", "saved.xlsx", saved, content_type=XLSX)
    # then the saved result is imported
    assert (job.status, Lead.objects.get().employees) == ("done", 2)
    # and a formula whose saved result is empty text (=IFERROR(…; "")) is an empty cell
    empty = rewrite_sheet(data, lambda xml: xml.replace(b'<c r="C2"><f>1+1</f><v /></c>',
                                                        b'<c r="C2" t="str"><f>IF(1,"","x")</f><v></v></c>'))
    assert b't="str"' in sheet_xml(empty)
    job = import_file(client, "leads", "empty.xlsx", empty, content_type=XLSX, duplicates="create")
    assert (job.status, Lead.objects.order_by("pk").last().employees) == ("done", None)


@pytest.mark.django_db
def test_text_that_looks_like_a_formula_is_imported_as_text(client, rep):
    job = import_file(client, "leads", "evil.xlsx", xlsx_bytes(["Last name", "Email", "Title", "Description"], [
        ["Laine", "a@laine.fi", EVIL, "@SUM(1+1)"]]), content_type=XLSX)
    assert job.status == "done"
    csv = f'Last name,Email,Title,Description\nVirtanen,m@virtanen.fi,"{EVIL}",+1+2\n'.encode()
    job = import_file(client, "leads", "evil.csv", csv)
    assert job.status == "done"
    assert dict(Lead.objects.values_list("last_name", "title")) == {"Laine": EVIL, "Virtanen": EVIL}
    assert Lead.objects.get(last_name="Virtanen").description == "+1+2"
    # and our export guards it again
    exported = b"".join(client.get(reverse("leads:list"), {"export": "csv"}).streaming_content).decode("utf-8-sig")
    assert f"'{EVIL}" in exported.replace('""', '"')
