"""Rows that do not fit the header: one cell more or fewer is that row's error under its spreadsheet row number,
never a shift of every later value. Good-rows mode imports the others; all-or-nothing mode imports nothing."""
import pytest

from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from crm.imports.tests.pages import XLSX, detail_page, latest_job, map_and_preview, run, upload, workbook
from leads.models import Lead

CSV = (
    "Last name,Email,Company\n"
    "Laine,aino@laine.fi,Laine Oy\n"  # row 2
    "Virtanen,mikko@virtanen.fi,Virtanen Ab,Helsinki\n"  # row 3: one cell more
    "Ahmadi,sara@example.ir\n"  # row 4: one cell fewer
    'Korhonen,jussi@korhonen.fi,"Korhonen\nja Pojat Oy"\n'  # row 5, over two lines of the file
    "Karimi,leila@example.ir,Karimi Co,\n"  # row 6: a trailing delimiter is not a cell
    "\n"
    "Nieminen,liisa@example.fi,Saimaa Oy\n"  # row 8: the blank line is row 7
)


@pytest.fixture
def job(client, rep):
    upload(client, "leads", "rows.csv", CSV.encode())
    return latest_job()


@pytest.mark.django_db
def test_a_row_with_a_cell_more_or_fewer_is_that_rows_error(client, job):
    map_and_preview(client, job, mode="good_rows")
    assert [e["row"] for e in job.errors] == [3, 4]
    assert job.errors[0]["errors"] == ["This row has 4 cells; the header row has 3."]
    assert job.errors[1]["errors"] == ["This row has 2 cells; the header row has 3."]
    assert (job.total_rows, job.created_count, job.error_count) == (6, 4, 2)
    page = detail_page(client, job)
    assert "2 rows cannot be imported" in page and "This row has 4 cells" in page


@pytest.mark.django_db
def test_good_rows_mode_imports_the_others_unshifted(client, job):
    map_and_preview(client, job, mode="good_rows")
    job = run(client, job)
    assert (job.status, job.created_count, job.error_count) == ("done", 4, 2)
    assert dict(Lead.objects.values_list("last_name", "company")) == {
        "Laine": "Laine Oy", "Korhonen": "Korhonen\nja Pojat Oy", "Karimi": "Karimi Co", "Nieminen": "Saimaa Oy"}
    assert [e["row"] for e in job.errors] == [3, 4]  # the result page keeps the report


@pytest.mark.django_db
def test_all_or_nothing_imports_nothing(client, job):
    map_and_preview(client, job, mode="all_or_nothing")
    assert 'disabled' in detail_page(client, job)  # "Import now" waits for a clean file
    job = run(client, job)  # posted anyway
    assert (job.status, job.created_count) == ("failed", 0)
    assert "Nothing was imported" in job.message and not Lead.objects.exists()


@pytest.mark.django_db
def test_a_semicolon_file_from_a_finnish_excel(client, rep):
    # Excel in Finnish saves "CSV (semicolon separated)" in Windows-1252, with decimal commas
    data = "Sukunimi;Sähköposti;Liikevaihto\nMäkinen;m@konepaja.fi;1 250 000,50\n".encode("cp1252")
    upload(client, "leads", "fi.csv", data)
    job = latest_job()
    assert job.mapping == {"Sukunimi": "last_name", "Sähköposti": "email", "Liikevaihto": "annual_revenue"}
    map_and_preview(client, job)
    job = run(client, job)
    lead = Lead.objects.get()
    assert (lead.last_name, str(lead.annual_revenue)) == ("Mäkinen", "1250000.50")


@pytest.mark.django_db
def test_xlsx_numbers_are_numbers_whatever_the_users_language(client, rep):
    # given a Finnish user, for whom "999.125" typed by hand would be 999 125
    CustomFieldFactory(name="weight", label="Weight", field_type=FieldType.NUMBER)
    rep.language = "fi"
    rep.save()
    data = workbook(("Last name", "Weight", "Employees", "Annual revenue"), ("Laine", 2.125, 1200, 1234567.5),
                    ("Virtanen", 0.5, 12, 999.125))
    upload(client, "leads", "numbers.xlsx", data, XLSX)
    job = latest_job()
    map_and_preview(client, job, mode="good_rows")
    run(client, job)
    # then the spreadsheet's number cells keep their values: 999.125 has a decimal too many, it is not 999125
    lead = Lead.objects.get()
    assert (lead.custom, lead.employees, str(lead.annual_revenue)) == ({"weight": "2.125"}, 1200, "1234567.50")
    assert [e["row"] for e in job.errors] == [3] and "Liikevaihto" in job.errors[0]["errors"][0]
