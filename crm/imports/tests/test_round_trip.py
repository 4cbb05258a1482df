"""Our own export imports back unchanged, whatever the exporter's language: every row of a re-import is a
duplicate (skipped), and updating from it writes the values the records already have (amounts, phones
behind the CSV formula guard, owners by email, country codes, dates, picklists and yes/no by their labels)."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account, Contact
from accounts.records import CONTACT_FIELDS, CONTACT_LIST
from accounts.tests.factories import AccountFactory, ContactFactory
from crm.customization.models import FieldType, PicklistValue
from crm.customization.tests.factories import CustomFieldFactory
from crm.imports.tests.pages import XLSX, import_file, job_headers, latest_job, upload
from leads.models import Lead
from leads.records import EXPORT_FIELDS, IMPORT_FIELDS
from leads.tests.factories import LeadFactory

FORMATS = [("fi", "csv"), ("fa", "xlsx"), ("fi", "xlsx"), ("fa", "csv")]
LEAD_COLUMNS = [f"{f}_id" if f in ("owner", "status", "source") else f for f in EXPORT_FIELDS if f in IMPORT_FIELDS]
CONTACT_COLUMNS = [f"{f}_id" if f in ("owner", "account") else f for f in CONTACT_LIST.export_fields
                   if f in CONTACT_FIELDS]


def export(client, user, url: str, fmt: str) -> bytes:
    client.force_login(user)
    response = client.get(url, {"export": fmt})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def snapshot(model, columns) -> dict:
    return {row["pk"]: row for row in model.objects.values("pk", *columns, "custom", "email_normalized",
                                                           "phone_normalized")}


@pytest.fixture
def languages(reps):
    """The exporter writes in one language, the importers read in others."""
    rep, other, manager = reps
    other.language = "en"
    other.save()
    return rep, other, manager


def with_language(user, language):
    user.language = language
    user.save()
    return user


@pytest.fixture
def leads(languages):
    rep = languages[0]
    CustomFieldFactory(name="next_visit", label="Next visit", field_type=FieldType.DATE,
                       label_translations={"fi": "Seuraava käynti", "fa": "بازدید بعدی"})
    CustomFieldFactory(name="seats", label="Seats", field_type=FieldType.NUMBER,
                       label_translations={"fi": "Paikat", "fa": "صندلی‌ها"})
    status = {v.value: v for v in PicklistValue.objects.filter(picklist="leads.status")}
    source = {v.value: v for v in PicklistValue.objects.filter(picklist="leads.source")}
    return [
        LeadFactory(owner=rep, created_by=rep, first_name="Aino", last_name="Mäkelä", title="Hankintapäällikkö",
                    company="Tampereen Tietotekniikka Oy", email="aino@tamtieto.example", phone="+358 40 123 4567",
                    mobile="+358 50 765 4321", website="https://tamtieto.example", street="Hämeenkatu 5 B 12",
                    city="Tampere", state="Pirkanmaa", postal_code="33100", country="FI", industry="technology",
                    employees=60, annual_revenue=Decimal("1234567.89"), currency="EUR", rating="warm",
                    status=status["contacted"], source=source["trade-show"], description="Rivi 1\nRivi 2",
                    custom={"next_visit": "2026-03-05", "seats": "12.5"}),
        LeadFactory(owner=rep, created_by=rep, first_name="سارا", last_name="محمدی", company="پارس داده پردازان",
                    email="sara@parsdadeh.example", phone="+98 21 8876 5432", country="IR", industry="retail",
                    annual_revenue=Decimal("950000.00"), currency="IRR", status=status["hot"],
                    source=source["partner"], objections="قیمت", custom={"seats": "3"}),
        # no email: matched by its phone
        LeadFactory(owner=rep, created_by=rep, first_name="John", last_name="Smith", company="Northwind Inc.",
                    email="", phone="+1 510 555 0134", country="US", annual_revenue=Decimal("1234.50"),
                    employees=1200, status=status["not-contacted"], source=source["web-form"]),
        # neither: matched by company and last name
        LeadFactory(owner=rep, created_by=rep, first_name="", last_name="Nieminen", company="Saimaan Puu Oy",
                    email="", status=status["cold"], source=source["import"], rating="cold"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language,fmt", FORMATS)
def test_leads_export_imports_back_unchanged(client, languages, leads, language, fmt):
    rep, other, manager = languages
    with_language(rep, language)
    data = export(client, rep, reverse("leads:list"), fmt)
    before = snapshot(Lead, LEAD_COLUMNS)
    if fmt == "csv":
        assert "'+358 40 123 4567" in data.decode("utf-8-sig")  # the export's formula guard

    # when another rep imports it, skipping duplicates (they cannot see these leads)
    client.force_login(other)
    upload(client, "leads", f"leads.{fmt}", data, XLSX if fmt == "xlsx" else "text/csv")
    job = latest_job()
    # then every exported column that can be imported maps back to the field it came from
    mapped = {h: job.mapping[h] for h in job_headers(job) if job.mapping[h]}
    assert sorted(mapped.values()) == sorted([f for f in EXPORT_FIELDS if f in IMPORT_FIELDS] + ["cf_next_visit",
                                                                                                "cf_seats"])
    job = import_file(client, "leads", f"leads.{fmt}", data, content_type=XLSX if fmt == "xlsx" else "text/csv")
    # then every row is a duplicate
    assert (job.status, job.created_count, job.skipped_count, job.error_count) == ("done", 0, 4, 0), job.errors
    assert Lead.objects.count() == 4

    # when their manager imports it in another language, updating duplicates
    client.force_login(with_language(manager, "fa" if language == "fi" else "fi"))
    job = import_file(client, "leads", f"leads.{fmt}", data, duplicates="update",
                      content_type=XLSX if fmt == "xlsx" else "text/csv")
    # then every lead is updated with the values it already had
    assert (job.status, job.created_count, job.updated_count, job.error_count) == ("done", 0, 4, 0), job.errors
    after = snapshot(Lead, LEAD_COLUMNS)
    assert after == before
    aino = Lead.objects.get(email="aino@tamtieto.example")
    assert (aino.phone, aino.annual_revenue, aino.custom["next_visit"]) == ("+358 40 123 4567",
                                                                           Decimal("1234567.89"), "2026-03-05")
    assert aino.history.order_by("-history_date").first().history_type == "~"


@pytest.fixture
def contacts(languages):
    rep = languages[0]
    tamtieto = AccountFactory(name="Tampereen Tietotekniikka Oy", owner=rep, created_by=rep)
    pars = AccountFactory(name="پارس داده پردازان", owner=rep, created_by=rep)
    made = [
        ContactFactory(owner=rep, created_by=rep, salutation="Ms.", first_name="Aino", last_name="Mäkelä",
                       title="Hankintapäällikkö", department="Hankinta", account=tamtieto,
                       email="aino@tamtieto.example", phone="+358 3 3145 6600", mobile="+358 50 765 4321",
                       mailing_street="Hämeenkatu 5 B 12", mailing_city="Tampere", mailing_postal_code="33100",
                       mailing_country="FI", birthdate=date(1988, 11, 4), preferred_language="fi",
                       email_opt_out=True, do_not_call=False),
        ContactFactory(owner=rep, created_by=rep, salutation="خانم", first_name="سارا", last_name="محمدی",
                       account=pars, email="", phone="+98 912 345 6789", mailing_country="IR",
                       birthdate=date(1990, 1, 31), preferred_language="fa", do_not_call=True),
        ContactFactory(owner=rep, created_by=rep, first_name="Mikko", last_name="Heikkinen", account=tamtieto,
                       email="", phone="", mobile=""),
    ]
    from accounts.records import contact_duplicates

    for contact in made:  # the duplicate keys the contact services keep
        contact_duplicates().set_keys(contact)
        contact.save()
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("language,fmt", FORMATS[:2])
def test_contacts_export_imports_back_with_the_same_contacts_and_accounts(client, languages, contacts, language,
                                                                          fmt):
    rep, other, manager = languages
    with_language(rep, language)
    data = export(client, rep, reverse("contacts:list"), fmt)
    before, accounts = snapshot(Contact, CONTACT_COLUMNS), set(Account.objects.values_list("pk", "name"))
    content_type = XLSX if fmt == "xlsx" else "text/csv"

    # when another rep, who sees neither the contacts nor their accounts, imports it skipping duplicates
    client.force_login(other)
    job = import_file(client, "contacts", f"contacts.{fmt}", data, content_type=content_type)
    # then every row is a duplicate, and no account is created for the rows skipped
    assert (job.status, job.created_count, job.skipped_count, job.error_count) == ("done", 0, 3, 0), job.errors
    assert set(Account.objects.values_list("pk", "name")) == accounts and Contact.objects.count() == 3

    # when their manager, who sees both, updates from it
    client.force_login(with_language(manager, "en"))
    job = import_file(client, "contacts", f"contacts.{fmt}", data, content_type=content_type, duplicates="update")
    # then the contacts keep their values and their accounts, matched by name, not created twice
    assert (job.status, job.created_count, job.updated_count, job.error_count) == ("done", 0, 3, 0), job.errors
    assert snapshot(Contact, CONTACT_COLUMNS) == before
    assert set(Account.objects.values_list("pk", "name")) == accounts
    assert "New accounts" not in " ".join(w["message"] for w in job.warnings)
