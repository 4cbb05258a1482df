"""vCard exports of Google, Apple, Outlook, Android and CardDAV servers import into leads and contacts through the
pages: every person card is one record, groups and organisations are skipped with a warning, a bad web address
is dropped while the card still imports, and importing the same file again creates nothing."""
import re

import pytest
from django.urls import reverse

from accounts.models import Account, Contact
from crm.imports.tests.pages import detail_page, fixture, latest_job, map_and_preview, messages_of, run, upload
from leads.models import Lead

MODELS = {"leads": Lead, "contacts": Contact}
# file: (people, cards skipped, warnings that must be there)
FILES = {
    "google.vcf": (3, 0, []),
    "apple.vcf": (2, 2, ["Card 3 describes an organisation, not a person: skipped.",
                         "Card 4 is a contact group, not a person: skipped."]),
    "outlook.vcf": (1, 0, []),
    "android.vcf": (4, 0, ["Card 4: “linkedin://profile/jussi-korhonen-8b1a2” is not a web address and was left out.",
                           "Card 2 has no name: “only.email@mailbox.example” was used as the last name."]),
    "kind_group_org.vcf": (2, 2, ["Card 1 is a contact group, not a person: skipped.",
                                  "Card 2 describes an organisation, not a person: skipped."]),
}


def import_cards(client, slug, name):
    upload(client, slug, name, fixture(name), "text/vcard")
    job = latest_job()
    map_and_preview(client, job)
    return job


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["leads", "contacts"])
@pytest.mark.parametrize("name", list(FILES))
def test_every_person_card_is_one_record_and_a_second_import_creates_nothing(client, rep, slug, name):
    model = MODELS[slug]
    people, skipped, warnings = FILES[name]
    # given a real vCard export, uploaded and dry run
    job = import_cards(client, slug, name)
    # then the dry run page lists the cards as they were read
    page = detail_page(client, job)
    cards = re.search(r"<table[^>]*data-cards.*?<tbody>(.*?)</tbody>", page, re.S).group(1)
    assert cards.count("<tr>") == people and "data-mapping" not in page
    assert (job.status, job.created_count, job.skipped_count, job.error_count) == ("previewed", people, skipped, 0)
    for warning in warnings:
        assert warning in messages_of(job)
    # when it is imported
    job = run(client, job)
    assert (job.status, job.created_count, job.skipped_count) == ("done", people, skipped), job.message
    assert model.objects.count() == people
    # when the same file is imported again
    again = run(client, import_cards(client, slug, name))
    # then every card is a duplicate (by email or phone, else by exact name)
    assert (again.status, again.created_count, again.skipped_count) == ("done", 0, people + skipped)
    assert model.objects.count() == people
    if slug == "contacts":  # the cards' companies became accounts once
        assert Account.objects.count() == len(set(Account.objects.values_list("name", flat=True)))


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["leads", "contacts"])
def test_android_cards_persian_quoted_printable_an_email_only_card_and_a_bad_url(client, rep, slug):
    model = MODELS[slug]
    run(client, import_cards(client, slug, "android.vcf"))
    ali = model.objects.get(email="ali.rezaei@kavir.example")
    assert (ali.first_name, ali.last_name) == ("علی", "رضایی")
    assert model.objects.get(email="only.email@mailbox.example").last_name == "only.email@mailbox.example"
    jussi = model.objects.get(email="jussi.korhonen@peramerenenergia.example")
    assert jussi.mobile == "+358445127788"  # the preferred of two mobiles
    if slug == "leads":
        assert (jussi.website, jussi.company) == ("", "Perämeren Energia Oy")
        assert ali.postal_code == "1416734511"  # Persian digits, stored as Latin ones
    else:
        assert jussi.account.name == "Perämeren Energia Oy" and ali.mailing_postal_code == "1416734511"


@pytest.mark.django_db
def test_apple_card_with_a_photo_and_outlook_windows_1252(client, rep):
    run(client, import_cards(client, "contacts", "apple.vcf"))
    aino = Contact.objects.get(email="aino.makela@tamtieto.example")
    assert (aino.last_name, aino.title, aino.department, aino.account.name, str(aino.birthdate)) == (
        "Mäkelä", "Hankintapäällikkö", "Hankinta", "Tampereen Tietotekniikka Oy", "1988-11-04")
    assert not Contact.objects.filter(last_name__in=["Kavir Tejarat Co.", "Asiakkaat"]).exists()
    run(client, import_cards(client, "leads", "outlook.vcf"))
    matti = Lead.objects.get()
    assert (matti.last_name, matti.phone, matti.country) == ("Mäkinen", "+358 9 4155 2100", "FI")
    assert "25 000 €" in matti.description


@pytest.mark.django_db
def test_a_vcard_into_a_type_that_takes_no_cards_is_refused(client, rep):
    response = upload(client, "accounts", "cards.vcf", fixture("google.vcf"), "text/vcard")
    assert response.status_code == 422 and "vCard files hold people" in response.content.decode()
    assert client.get(reverse("imports:start", args=["accounts"])).status_code == 200
