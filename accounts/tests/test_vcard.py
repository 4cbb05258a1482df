"""vCard export of one contact or the ticked ones (3.0 and 4.0), only of what the reader may see, and the round
trip: the export imported again matches every card to its contact and creates nothing; imported into an empty
CRM it gives the same contacts and accounts, non-Latin names and all. The real exports of Google, Apple, Outlook
and Android (crm/imports/tests/fixtures) are imported in crm/imports/tests/test_vcard_import.py; here a contact
exported from them comes back the same."""
from datetime import date

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Account, Contact
from accounts.tests.factories import AccountFactory, ContactFactory
from crm.access.models import AuditLog, FieldAccess, FieldPermission
from crm.imports.tests.pages import fixture, import_file
from crm.imports.vcard import parse_vcards

pytestmark = pytest.mark.django_db

COMPARED = ("salutation", "first_name", "last_name", "title", "department", "email", "secondary_email", "phone",
            "mobile", "mailing_street", "mailing_city", "mailing_state", "mailing_postal_code", "mailing_country",
            "birthdate", "preferred_language", "description")


def people() -> dict[str, dict]:
    found = {}
    for contact in Contact.objects.select_related("account"):
        found[contact.email or contact.last_name] = {
            **{name: getattr(contact, name) for name in COMPARED},
            "account": contact.account.name if contact.account else ""}
    return found


@pytest.fixture
def contacts(reps):
    rep = reps[0]
    pars = AccountFactory(owner=rep, name="پارس داده پردازان")
    konepaja = AccountFactory(owner=rep, name="Pohjolan Konepaja Oy")
    services.contact_create(actor=rep, owner=rep, account=pars, salutation="خانم", first_name="سارا", last_name="محمدی",
                   title="مدیر فروش", department="فروش", email="sara@parsdadeh.example", phone="+98 912 345 6789",
                   mailing_street="خیابان ولیعصر، پلاک ۲۱۴۰", mailing_city="تهران", mailing_postal_code="1517934811",
                   mailing_country="IR", preferred_language="fa", birthdate=date(1988, 4, 12))
    services.contact_create(actor=rep, owner=rep, account=konepaja, salutation="Dr.", first_name="Matti", last_name="Mäkinen",
                   title="Huoltopäällikkö, Pohjola; Etelä", department="Huolto", email="matti@konepaja.example",
                   secondary_email="matti@koti.example", phone="+358 9 4155 2100", mobile="+358 40 718 2245",
                   mailing_street="Teollisuuskatu 21\nB-rappu", mailing_city="Helsinki", mailing_state="Uusimaa",
                   mailing_postal_code="00510", mailing_country="FI", preferred_language="fi",
                   description="Tapasimme messuilla.\nSoita tiistaisin; ei perjantaisin.")
    services.contact_create(actor=rep, owner=rep, account=None, first_name="", last_name="Wu", email="", phone="+86 10 1234 5678",
                   mailing_country="CN", description="名字只有姓")
    services.contact_create(actor=rep, owner=rep, account=konepaja, first_name="Jane", last_name="O'Neil-Smith", email="jane@example.com",
                   title="a very long title that goes on and on past seventy-five octets so that the line folds",
                   birthdate=date(1971, 11, 2))
    return rep


def differences(now: dict, before: dict) -> dict:
    """{person: {field: (now, before)}} of what changed (empty: the same people)."""
    changed = {}
    for key in set(now) | set(before):
        a, b = now.get(key, {}), before.get(key, {})
        fields = {f: (a.get(f), b.get(f)) for f in set(a) | set(b) if a.get(f) != b.get(f)}
        if fields:
            changed[key] = fields
    return changed


def export(client, ids, version: str) -> bytes:
    response = client.post(reverse("contacts:vcard"), {"ids": [str(i) for i in ids], "version": version})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/vcard")
    assert "attachment" in response["Content-Disposition"]
    return response.content


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_then_import_gives_the_same_contacts_and_no_duplicates(client, contacts, version):
    rep = contacts
    client.force_login(rep)
    before = people()
    data = export(client, Contact.objects.values_list("pk", flat=True), version)
    assert data.count(b"BEGIN:VCARD") == 4 and f"VERSION:{version}".encode() in data
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded at 75 octets

    # imported again over the same contacts: every card is one of them, nothing is created
    job = import_file(client, "contacts", "export.vcf", data, content_type="text/vcard")
    assert (job.status, job.created_count, job.skipped_count) == ("done", 0, 4), job.message
    assert differences(people(), before) == {} and Account.objects.count() == 2

    # imported into a CRM without them: the same contacts, their accounts made once each by name
    Contact.objects.all().delete()
    Account.objects.all().delete()
    job = import_file(client, "contacts", "export.vcf", data, content_type="text/vcard")
    assert (job.status, job.created_count) == ("done", 4), job.message
    assert differences(people(), before) == {}
    assert sorted(Account.objects.values_list("name", flat=True)) == ["Pohjolan Konepaja Oy", "پارس داده پردازان"]


def test_one_contact_as_a_vcard_without_the_fields_hidden_from_the_reader(client, contacts):
    rep = contacts
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.contact", field_name="birthdate",
                                   access=FieldAccess.HIDDEN)
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.contact", field_name="mobile",
                                   access=FieldAccess.HIDDEN)
    matti = Contact.objects.get(email="matti@konepaja.example")
    client.force_login(rep)

    response = client.get(reverse("contacts:vcard_one", args=[matti.pk]), {"version": "3.0"})
    assert response.status_code == 200
    (card,) = parse_vcards(response.content)
    assert card.fields["last_name"] == "Mäkinen" and card.fields["company"] == "Pohjolan Konepaja Oy"
    assert "mobile" not in card.fields and "birthdate" not in card.fields and b"718 2245" not in response.content
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, target_type="accounts.contact").exists()
    page = client.get(reverse("contacts:detail", args=[matti.pk])).content.decode()
    assert reverse("contacts:vcard_one", args=[matti.pk]) in page


def test_a_selection_exports_only_the_contacts_the_reader_may_see_and_needs_the_export_right(client, reps):
    rep, other, _ = reps
    mine = ContactFactory(owner=rep, last_name="Mine")
    theirs = ContactFactory(owner=other, last_name="Theirs")
    client.force_login(rep)

    cards = parse_vcards(export(client, [mine.pk, theirs.pk], "4.0"))
    assert [c.fields["last_name"] for c in cards] == ["Mine"]
    assert client.post(reverse("contacts:vcard"), {"ids": [theirs.pk]}).status_code == 404
    assert client.post(reverse("contacts:vcard"), {"ids": []}).status_code == 302
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'form="bulk-form" formaction="/contacts/vcard/"' in page



def test_vcards_need_the_export_right(client, reps):
    from crm.access.models import ObjectPermission

    rep = reps[0]
    ObjectPermission.objects.filter(profile=rep.profile, record_type="accounts.contact").update(can_export=False)
    contact = ContactFactory(owner=rep)
    client.force_login(rep)

    assert client.get(reverse("contacts:vcard_one", args=[contact.pk])).status_code == 404
    assert client.post(reverse("contacts:vcard"), {"ids": [contact.pk]}).status_code == 404
    assert reverse("contacts:vcard_one", args=[contact.pk]) not in client.get(
        reverse("contacts:detail", args=[contact.pk])).content.decode()

@pytest.mark.parametrize("name", ["google.vcf", "apple.vcf", "outlook.vcf", "android.vcf"])
def test_contacts_from_real_exports_come_back_the_same_from_our_export(client, reps, name):
    rep = reps[0]
    client.force_login(rep)
    job = import_file(client, "contacts", name, fixture(name), content_type="text/vcard")
    assert job.status == "done" and job.created_count >= 1, job.message
    before = people()
    for version in ("3.0", "4.0"):
        data = export(client, Contact.objects.values_list("pk", flat=True), version)
        again = import_file(client, "contacts", f"again-{version}.vcf", data, content_type="text/vcard")
        assert (again.status, again.created_count) == ("done", 0), again.message
        assert differences(people(), before) == {}
