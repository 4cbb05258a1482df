"""CSV, XLSX and vCard import: mapping, dry run with every bad row, duplicates, all-or-nothing or good rows,
limits refused before parsing, large files on a real Celery worker."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from conftest import wait_for
from crm.access.models import AuditLog
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from crm.imports.engine import import_run
from crm.imports.models import ImportJob
from leads.models import Lead
from leads.tests.factories import LeadFactory

CSV = (
    "First name,Surname,E-mail,Company,Employees,Status,Seats\n"
    "Aino,Laine,aino@laine.fi,Laine Oy,120,Hot,10\n"
    "Bad,,bad@example.com,No Name Ltd,5,Hot,1\n"
    "Mikko,Virtanen,not-an-email,Virtanen Ab,many,Hot,2\n"
    "Sara,Ahmadi,sara@example.ir,Pars Co,15,Unknown status,3\n"
    "Leila,Karimi,leila@example.ir,Karimi Co,30,Warm,4\n"
)


def upload(client, name, content, content_type="text/csv"):
    return client.post(reverse("imports:start", args=["leads"]), {"file": SimpleUploadedFile(name, content, content_type=content_type)})


def map_and_preview(client, job, **options):
    data = {"duplicates": "skip", "mode": "all_or_nothing", **options}
    for i, header in enumerate(job_headers(job)):
        data[f"map_{i}"] = job.mapping.get(header, "")
    return client.post(reverse("imports:detail", args=[job.pk]), data)


def job_headers(job):
    from crm.imports.views import _read

    return _read(job).headers  # the file's column order (a JSON object in PostgreSQL does not keep it)


@pytest.fixture
def rep(client, sales):
    CustomFieldFactory(name="seats", label="Seats", field_type=FieldType.NUMBER)
    client.force_login(sales[0])
    return sales[0]


@pytest.mark.django_db
def test_mapping_is_guessed_and_the_dry_run_lists_every_bad_row(client, rep):
    response = upload(client, "leads.csv", CSV.encode())
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.mapping == {"First name": "first_name", "Surname": "last_name", "E-mail": "email", "Company": "company",
                           "Employees": "employees", "Status": "status", "Seats": "cf_seats"}
    map_and_preview(client, job)
    job.refresh_from_db()
    assert job.status == "previewed" and job.total_rows == 5 and job.created_count == 2
    rows = {e["row"]: " ".join(e["errors"]) for e in job.errors}
    assert set(rows) == {3, 4, 5}  # spreadsheet rows: the header is row 1
    assert "last name" in rows[3].lower() and "Enter a valid email address." in rows[4]
    assert "Enter a whole number." in rows[4] and "Unknown value “Unknown status”" in rows[5]
    assert not Lead.objects.exists()
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "3 rows cannot be imported" in page and "disabled" in page


@pytest.mark.django_db
def test_all_or_nothing_writes_nothing_while_any_row_is_bad(client, rep):
    upload(client, "leads.csv", CSV.encode())
    job = ImportJob.objects.get()
    map_and_preview(client, job)
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "failed" and job.created_count == 0 and not Lead.objects.exists()
    assert "Nothing was imported" in job.message


@pytest.mark.django_db
def test_good_rows_mode_imports_the_valid_rows_and_reports_the_rest(client, rep):
    upload(client, "leads.csv", CSV.encode())
    job = ImportJob.objects.get()
    map_and_preview(client, job, mode="good_rows")
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 2 and job.error_count == 3
    aino = Lead.objects.get(email="aino@laine.fi")
    assert aino.owner == rep and aino.custom == {"seats": "10"} and aino.status.value == "hot"
    assert aino.source.value == "import" and aino.lifecycle_transitions.count() == 1
    assert AuditLog.objects.filter(action="import", actor=rep).exists()
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'data-import-status="done"' in page and "3 rows cannot be imported" in page


@pytest.mark.django_db
@pytest.mark.parametrize("mode,expected_title,count", [("skip", "Old", 1), ("update", "CTO", 1), ("create", "Old", 2)])
def test_duplicate_handling(client, rep, mode, expected_title, count):
    LeadFactory(owner=rep, email="aino@laine.fi", last_name="Laine", title="Old")
    upload(client, "dup.csv", b"Last name,Email,Title\nLaine,AINO@laine.fi,CTO\n")
    job = ImportJob.objects.get()
    map_and_preview(client, job, duplicates=mode)
    client.post(reverse("imports:run", args=[job.pk]))
    assert Lead.objects.count() == count
    assert Lead.objects.order_by("pk").first().title == expected_title


@pytest.mark.django_db
def test_repeated_rows_are_skipped_and_every_write_has_history(client, rep):
    old = LeadFactory(owner=rep, email="aino@laine.fi", last_name="Laine", title="Old", company="Laine Oy")
    upload(client, "rows.csv", "Last name,Email,Title,Phone\n"
                               "Laine,aino@laine.fi,CTO,\n"  # updates the existing lead
                               "Karimi,leila@example.ir,CEO,+358 40 111 2222\n"  # new
                               "Karimi,LEILA@example.ir,CFO,\n"  # repeats the row above: skipped
                               "Korhonen,,Buyer,040 111 2222\n".encode())  # the same phone: skipped
    job = ImportJob.objects.get()
    map_and_preview(client, job, duplicates="update")
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 1, 2)
    assert Lead.objects.count() == 1  # the dry run wrote nothing
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count, job.updated_count, job.skipped_count) == ("done", 1, 1, 2)
    new = Lead.objects.get(email="leila@example.ir")
    assert new.title == "CEO" and new.phone_normalized == "+358401112222" and new.created_by == rep
    old.refresh_from_db()
    assert old.title == "CTO" and old.company == "Laine Oy"  # columns not in the file stay as they were
    assert [(h.history_type, h.history_user) for h in new.history.all()] == [("+", rep)]
    assert [h.history_type for h in old.history.order_by("history_date")][-1] == "~"
    assert old.history.order_by("-history_date").first().history_user == rep


@pytest.mark.django_db
def test_update_never_touches_a_lead_the_user_may_not_edit(client, rep, sales):
    LeadFactory(owner=sales[1], email="aino@laine.fi", last_name="Laine", title="Old")
    upload(client, "dup.csv", b"Last name,Email,Title\nLaine,aino@laine.fi,CTO\n")
    job = ImportJob.objects.get()
    map_and_preview(client, job, duplicates="update")
    client.post(reverse("imports:run", args=[job.pk]))
    assert Lead.objects.get().title == "Old"


@pytest.mark.django_db
def test_xlsx_with_persian_text_and_limits_refused_before_parsing(client, rep, settings):
    book = Workbook()
    sheet = book.active
    sheet.append(["نام", "نام خانوادگی", "ایمیل", "Seats"])
    sheet.append(["لیلا", "کریمی", "leila@example.ir", 12])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    upload(client, "fa.xlsx", data, xlsx)
    job = ImportJob.objects.get()
    assert job.mapping == {"نام": "first_name", "نام خانوادگی": "last_name", "ایمیل": "email", "Seats": "cf_seats"}
    map_and_preview(client, job)
    client.post(reverse("imports:run", args=[job.pk]))
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.custom) == ("لیلا", "کریمی", {"seats": "12"})

    settings.IMPORT_MAX_UNZIPPED_BYTES = 1000
    response = upload(client, "bomb.xlsx", data, xlsx)
    assert response.status_code == 422 and "unpacks to" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 100
    response = upload(client, "big.csv", CSV.encode())
    assert response.status_code == 422 and "the limit is" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 10_000_000
    settings.IMPORT_MAX_ROWS = 3
    response = upload(client, "rows.csv", CSV.encode())
    assert response.status_code == 422 and "more than 3 rows" in response.content.decode()
    assert upload(client, "x.pdf", b"%PDF").status_code == 422
    assert ImportJob.objects.count() == 1


@pytest.mark.django_db
def test_vcard_21_quoted_printable_persian_and_30(client, rep):
    vcf = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=DA=A9=D8=B1=DB=8C=D9=85=DB=8C;"
           b"=D9=84=DB=8C=D9=84=D8=A7\r\nTEL;CELL:+98 912 123 4567\r\nEMAIL;INTERNET:leila@example.ir\r\nEND:VCARD\r\n"
           b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Virtanen;Mikko;;;\r\nORG:Virtanen Ab\r\nEMAIL;TYPE=work:mikko@virtanen.fi\r\n"
           b"END:VCARD\r\n")
    upload(client, "cards.vcf", vcf, "text/vcard")
    job = ImportJob.objects.get()
    assert job.file_format == "vcf" and job.total_rows == 2
    client.post(reverse("imports:detail", args=[job.pk]), {"duplicates": "skip", "mode": "all_or_nothing"})
    client.post(reverse("imports:run", args=[job.pk]))
    names = set(Lead.objects.values_list("first_name", "last_name", "mobile"))
    assert names == {("لیلا", "کریمی", "+98 912 123 4567"), ("Mikko", "Virtanen", "")}


@pytest.mark.django_db
def test_a_failure_mid_import_writes_nothing_and_a_finished_job_never_runs_twice(client, rep, monkeypatch):
    upload(client, "ok.csv", b"Last name,Email\nA,a@example.com\nB,b@example.com\n")
    job = ImportJob.objects.get()
    map_and_preview(client, job)

    def boom(*args, **kwargs):
        raise RuntimeError("worker lost its database")

    monkeypatch.setattr("crm.imports.engine._after_import", boom)
    assert import_run(job.pk).status == "failed" and not Lead.objects.exists()
    monkeypatch.undo()
    job.status = "previewed"
    job.save()
    assert import_run(job.pk).status == "done" and Lead.objects.count() == 2
    assert import_run(job.pk).status == "done" and Lead.objects.count() == 2


def test_a_large_file_runs_on_a_real_worker_with_progress(client, sales, settings, celery_worker):
    from leads.models import ScoringRule

    settings.IMPORT_ASYNC_ROWS = 10
    ScoringRule.objects.create(name="Has an email", kind="fit", points=10,
                               conditions={"all": [{"field": "email", "op": "contains", "value": "@"}]})
    client.force_login(sales[0])
    rows = "".join(f"Lead{i},lead{i}@example.com\n" for i in range(50))
    upload(client, "big.csv", ("Last name,Email\n" + rows).encode())
    job = ImportJob.objects.get()
    map_and_preview(client, job)
    client.post(reverse("imports:run", args=[job.pk]))
    assert ImportJob.objects.get().status in ("queued", "running", "done")
    progress = client.get(reverse("imports:progress", args=[job.pk]))
    assert progress.status_code == 200 and "<progress" in progress.content.decode()
    wait_for(lambda: ImportJob.objects.get().status == "done")
    assert Lead.objects.count() == 50 and ImportJob.objects.get().created_count == 50
    # The import's lead.created events queue batch rescoring on the worker.
    wait_for(lambda: Lead.objects.filter(score=10).count() == 50)


@pytest.mark.django_db
def test_campaign_touches_and_assignment_rules_with_one_notification_per_owner(client, rep, sales):
    from campaigns.models import Campaign, Touch
    from crm.access.tests.factories import TeamFactory
    from crm.notifications.models import Notification
    from leads.models import AssignmentRule

    other = sales[1]
    other.language = "fi"
    other.save()
    nordics = TeamFactory(name="Nordics")
    nordics.members.add(other)
    AssignmentRule.objects.create(name="Nordic territory", target="territory", team=nordics, countries="FI")
    earlier = Campaign.objects.create(name="Trade show", owner=rep)
    webinar = Campaign.objects.create(name="Webinar", owner=rep)
    old = LeadFactory(owner=rep, email="old@example.fi", last_name="Old", first_touch_campaign=earlier)
    upload(client, "touch.csv", b"Last name,Email,Country\nOld,old@example.fi,FI\nUusi,uusi@example.fi,fi\n"
                                b"Toinen,toinen@example.fi,FI\nAmerican,us@example.com,US\n")
    job = ImportJob.objects.get()
    map_and_preview(client, job, duplicates="update", campaign=webinar.pk, assign_by_rules="on")
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count, job.updated_count) == ("done", 3, 1)
    owners = dict(Lead.objects.values_list("last_name", "owner"))
    assert owners == {"Old": rep.pk, "Uusi": other.pk, "Toinen": other.pk, "American": rep.pk}
    assert Touch.objects.filter(campaign=webinar, channel="import").count() == 4
    old.refresh_from_db()
    assert (old.first_touch_campaign, old.last_touch_campaign) == (earlier, webinar)
    new = Lead.objects.get(last_name="Uusi")
    assert (new.first_touch_campaign, new.last_touch_campaign, new.currency, new.country) == (webinar, webinar, "EUR", "FI")
    notice = Notification.objects.get(recipient=other)  # one notification for both leads, in Finnish
    assert "2" in notice.message and "assigned" not in notice.message and notice.url.endswith("?mine=1")
    assert not Notification.objects.filter(recipient=rep).exists()  # the importer is not told about their own


@pytest.mark.django_db
def test_required_custom_fields_and_blank_required_columns_are_reported(client, rep):
    CustomFieldFactory(name="region", label="Region", field_type=FieldType.TEXT, required=True)
    upload(client, "req.csv", b"Last name,Email,Region,Currency\nLaine,a@example.fi,North,EUR\n"
                              b"Virtanen,b@example.fi,,EUR\n,c@example.fi,South,EUR\nAhmadi,d@example.ir,West,\n")
    job = ImportJob.objects.get()
    assert job.mapping["Region"] == "cf_region"
    map_and_preview(client, job)
    job.refresh_from_db()
    rows = {e["row"]: " ".join(e["errors"]) for e in job.errors}
    assert set(rows) == {3, 4, 5} and job.created_count == 1
    assert "region: this field is required." in rows[3].lower()
    assert "last name" in rows[4].lower() and "currency" in rows[5].lower()


@pytest.mark.django_db
def test_the_import_checks_again_what_changed_since_the_dry_run(client, rep):
    from crm.customization.models import CustomField, PicklistValue

    upload(client, "later.csv", "Last name,Email,Status,Seats\nLaine,a@example.fi,Hot,\nKarimi,b@example.ir,Warm,4\n".encode())
    job = ImportJob.objects.get()
    map_and_preview(client, job, mode="good_rows")
    job.refresh_from_db()
    assert job.created_count == 2 and job.error_count == 0
    PicklistValue.objects.filter(value="hot").update(is_active=False)  # picklists are looked up again
    seats = CustomField.objects.get(name="seats")
    seats.required = True  # a definition changed: the dry run's cleaned columns are not reused
    seats.save()
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    errors = " ".join(job.errors[0]["errors"])
    assert job.errors[0]["row"] == 2 and "Unknown value “Hot”" in errors and "seats" in errors.lower()
    assert list(Lead.objects.values_list("last_name", flat=True)) == ["Karimi"]


@pytest.mark.django_db
def test_updates_merge_custom_fields_recompute_keys_and_the_later_row_wins(client, rep):
    lead = LeadFactory(owner=rep, email="aino@laine.fi", last_name="Laine", phone="", mobile="+358 50 999 8888",
                       country="FI", custom={"seats": "5", "legacy": "keep"})
    lead.phone_normalized = "+358509998888"
    lead.save()
    upload(client, "upd.csv", "Last name,Email,Seats,Phone\nLaine,aino@laine.fi,12,040 111 2222\n"
                              "Laine-Korhonen,AINO@laine.fi,14,\n".encode())
    job = ImportJob.objects.get()
    map_and_preview(client, job, duplicates="update", mode="good_rows")
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.updated_count, job.created_count) == ("done", 1, 0)
    lead.refresh_from_db()
    # The second row matched the same lead (email in any case) and wins; its phone cell is empty, so the
    # stored mobile is the duplicate key again.
    assert (lead.last_name, lead.phone, lead.custom) == ("Laine-Korhonen", "", {"seats": "14", "legacy": "keep"})
    assert (lead.email_normalized, lead.phone_normalized, lead.country) == ("aino@laine.fi", "+358509998888", "FI")
    assert lead.history.order_by("-history_date").first().last_name == "Laine-Korhonen"
