"""Unknown picklist values: the dry run lists them and the page offers a select for each; the user maps them to
ours, leaves them empty or (with manage_customization) adds them to the picklist, and can have the spelling
remembered so that the next file maps it by itself."""
import pytest

from crm.access.models import AuditLog
from crm.access.tests.factories import AdminFactory
from crm.customization.models import PicklistValue
from crm.imports.tests.pages import (detail_page, latest_job, map_and_preview, map_values, run, upload,
                                     value_selects)
from leads.models import Lead

CSV = "Last name,Email,Status\nLaine,aino@laine.fi,Nurturing\nVirtanen,mikko@virtanen.fi,Hot\n".encode()


def dry_run(client, name="status.csv", content=CSV):
    upload(client, "leads", name, content)
    job = latest_job()
    map_and_preview(client, job)
    return job


@pytest.fixture
def admin(client, reps):
    user = AdminFactory(email="admin@example.com")
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_the_dry_run_lists_an_unknown_status_and_mapping_it_passes(client, rep):
    # given a file with a status we do not have
    job = dry_run(client)
    # then the dry run lists it, and the page has a select for it with our statuses
    assert job.preview["unknown"] == {"status": ["Nurturing"]}
    assert [e["row"] for e in job.errors] == [2] and "Unknown value “Nurturing”" in job.errors[0]["errors"][0]
    page = detail_page(client, job)
    name, options = value_selects(page)["Nurturing"]
    assert name == "value_status_0" and {"warm", "interested", "__blank__"} <= set(options)
    # a rep without manage_customization can neither add it to the picklist nor remember it
    assert "__add__" not in options and 'name="remember"' not in page
    # when the user maps it to an existing status
    response = map_values(client, job, {"Nurturing": "warm"})
    # then the dry run runs again and passes
    assert response.status_code == 302
    assert (job.status, job.error_count, job.created_count, job.preview["unknown"]) == ("previewed", 0, 2, {})
    assert job.value_mapping == {"status": {"nurturing": "warm"}}
    run(client, job)
    assert dict(Lead.objects.values_list("last_name", "status__value")) == {"Laine": "warm", "Virtanen": "hot"}


@pytest.mark.django_db
def test_a_rep_cannot_add_to_the_picklist_even_by_posting_it(client, rep):
    job = dry_run(client)
    map_values(client, job, {"Nurturing": "__add__"}, remember=True)
    assert not PicklistValue.objects.filter(picklist="leads.status", label="Nurturing").exists()
    assert job.preview["unknown"] == {"status": ["Nurturing"]} and job.error_count == 1
    assert not AuditLog.objects.filter(action=AuditLog.Action.CUSTOMIZATION_CHANGED).exists()


@pytest.mark.django_db
def test_leaving_the_value_empty_imports_the_row_as_with_an_empty_cell(client, rep):
    job = dry_run(client)
    map_values(client, job, {"Nurturing": "__blank__"})
    assert job.error_count == 0
    run(client, job)
    # a new lead without a status gets the default one, as for an empty cell
    assert Lead.objects.get(last_name="Laine").status.value == "not-contacted"


@pytest.mark.django_db
def test_an_admin_adds_the_value_to_the_picklist(client, admin):
    job = dry_run(client)
    assert "__add__" in value_selects(detail_page(client, job))["Nurturing"][1]
    map_values(client, job, {"Nurturing": "__add__"})
    added = PicklistValue.objects.get(picklist="leads.status", label="Nurturing")
    assert (added.value, added.is_active, job.error_count) == ("nurturing", True, 0)
    assert AuditLog.objects.filter(action=AuditLog.Action.CUSTOMIZATION_CHANGED, actor=admin).exists()
    run(client, job)
    assert Lead.objects.get(last_name="Laine").status == added


@pytest.mark.django_db
def test_remembered_spellings_map_the_next_file_by_themselves(client, admin, reps):
    # given an admin who maps "Nurturing" to Interested and has it remembered
    job = dry_run(client)
    map_values(client, job, {"Nurturing": "interested"}, remember=True)
    interested = PicklistValue.objects.get(picklist="leads.status", value="interested")
    assert interested.flags["aliases"] == ["Nurturing"]
    # when a rep imports another file with that spelling, in another case
    client.force_login(reps[1])
    second = dry_run(client, "again.csv", "Last name,Email,Status\nAhmadi,sara@example.ir,NURTURING\n".encode())
    # then it maps by itself
    assert (second.preview["unknown"], second.error_count) == ({}, 0)
    run(client, second)
    assert Lead.objects.get(last_name="Ahmadi").status == interested
