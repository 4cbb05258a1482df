"""Field-level security on import: a field the user may not change (read-only or hidden) is never offered as a
target, a job whose mapping still names it (the profile changed after the dry run) drops that column with a
warning, and no import, new or update, CSV or vCard, writes it."""
import re

import pytest

from crm.access.models import FieldAccess, FieldPermission
from crm.access.services import profile_field_access_set
from crm.imports.tests.pages import detail_page, fixture, latest_job, map_and_preview, messages_of, run, upload
from leads.models import Lead
from leads.tests.factories import LeadFactory

CSV = b"Last name,Email,Title,Company\nLaine,aino@laine.fi,CTO,Laine Oy\nVirtanen,mikko@virtanen.fi,CEO,Virtanen Ab\n"
ACCESS = [FieldAccess.READ_ONLY, FieldAccess.HIDDEN]


def restrict(user, field: str, access: str) -> None:
    """What an admin does on the profile's field access page (the service also tells every process)."""
    current = dict(FieldPermission.objects.filter(profile=user.profile, record_type="leads.lead")
                   .values_list("field_name", "access"))
    profile_field_access_set(actor=None, profile=user.profile, record_type="leads.lead",
                             access={**current, field: access})


def offered(page: str) -> set[str]:
    """The fields the mapping page offers, from its first column's select."""
    select = re.search(r'<select[^>]*name="map_0".*?</select>', page, re.S).group(0)
    return set(re.findall(r'<option value="([^"]+)"', select))


@pytest.mark.django_db
@pytest.mark.parametrize("access", ACCESS)
def test_a_field_the_user_may_not_change_is_not_offered(client, rep, access):
    restrict(rep, "title", access)
    upload(client, "leads", "leads.csv", CSV)
    job = latest_job()
    assert job.mapping["Title"] == ""  # not guessed
    choices = offered(detail_page(client, job))
    assert "title" not in choices and {"last_name", "company"} <= choices
    # posting it anyway maps nothing
    map_and_preview(client, job, mapping={"Title": "title"})
    assert job.mapping["Title"] == "" and "title" not in job.preview["columns"]


@pytest.mark.django_db
@pytest.mark.parametrize("access", ACCESS)
def test_a_job_whose_mapping_names_it_drops_the_column_and_an_update_never_writes_it(client, rep, access):
    old = LeadFactory(owner=rep, email="aino@laine.fi", last_name="Laine", title="Old", company="Old Oy")
    # given a dry run mapped while the user could still change the title
    upload(client, "leads", "leads.csv", CSV)
    job = latest_job()
    map_and_preview(client, job, duplicates="update")
    assert job.mapping["Title"] == "title" and job.updated_count == 1
    # when the profile loses the field before the import runs
    restrict(rep, "title", access)
    job = run(client, job)
    # then the column is dropped with a warning, and neither the update nor the new lead has it
    assert (job.status, job.created_count, job.updated_count) == ("done", 1, 1)
    assert "The column for “Title” was not imported: you may not change that field." in messages_of(job)
    old.refresh_from_db()
    assert (old.title, old.company) == ("Old", "Laine Oy")
    assert Lead.objects.get(email="mikko@virtanen.fi").title == ""


@pytest.mark.django_db
@pytest.mark.parametrize("access", ACCESS)
def test_a_dry_run_of_such_a_job_warns_too(client, rep, access):
    upload(client, "leads", "leads.csv", CSV)
    job = latest_job()
    map_and_preview(client, job)
    restrict(rep, "company", access)
    from crm.imports.engine import import_preview

    job = import_preview(job, rep)
    assert "company" not in job.preview["columns"]
    assert "The column for “Company” was not imported" in messages_of(job)


@pytest.mark.django_db
def test_vcards_leave_out_what_the_user_may_not_change(client, rep):
    restrict(rep, "title", FieldAccess.READ_ONLY)
    restrict(rep, "company", FieldAccess.HIDDEN)
    upload(client, "leads", "google.vcf", fixture("google.vcf"), "text/vcard")
    job = latest_job()
    map_and_preview(client, job)
    job = run(client, job)
    assert job.created_count == 3
    matti = Lead.objects.get(email="matti.virtanen@konepaja.example")
    assert (matti.title, matti.company, matti.last_name) == ("", "", "Virtanen")
