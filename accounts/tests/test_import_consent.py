"""Consent in a contacts import: a new contact's flags from the file are stamped as given by the import, now;
an update that changes a flag stamps that flag only; opting out withdraws an opt-in."""
import pytest

from accounts import services
from accounts.models import ConsentSource, Contact
from crm.imports.tests.pages import import_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(client, reps):
    client.force_login(reps[0])
    return reps[0]

CSV = ("First Name,Last Name,Email,Email Opt In,Email Opt Out,Do Not Call\n"
       "Aino,Laine,aino@laine.fi,yes,no,no\n"
       "Mikko,Virtanen,mikko@virtanen.fi,no,yes,yes\n")


def test_new_contacts_get_the_import_as_the_source_of_their_consent(client, rep):
    job = import_file(client, "contacts", "contacts.csv", CSV.encode())
    assert (job.status, job.created_count) == ("done", 2), job.message

    aino, mikko = Contact.objects.get(last_name="Laine"), Contact.objects.get(last_name="Virtanen")
    assert aino.email_opt_in and aino.email_opt_in_source == ConsentSource.IMPORT and aino.email_opt_in_at
    assert aino.email_opt_out_at is None and aino.do_not_call_source == ""
    assert mikko.email_opt_out and mikko.do_not_call and not mikko.email_opt_in
    assert mikko.email_opt_out_source == mikko.do_not_call_source == ConsentSource.IMPORT


def test_an_update_stamps_the_flags_it_changes_and_an_opt_out_withdraws_the_opt_in(client, rep):
    existing = services.contact_create(actor=rep, owner=rep, first_name="Aino", last_name="Laine",
                                       email="aino@laine.fi", email_opt_in=True, consent_source=ConsentSource.WEB_FORM)
    given_at = existing.email_opt_in_at
    update = ("First Name,Last Name,Email,Email Opt Out,Do Not Call\n"
              "Aino,Laine,aino@laine.fi,yes,no\n")

    job = import_file(client, "contacts", "update.csv", update.encode(), duplicates="update")
    assert (job.status, job.updated_count) == ("done", 1), job.message

    existing.refresh_from_db()
    assert existing.email_opt_out and existing.email_opt_out_source == ConsentSource.IMPORT
    assert not existing.email_opt_in and existing.email_opt_in_source == ConsentSource.IMPORT
    assert existing.email_opt_in_at > given_at
    assert existing.do_not_call_at is None  # unchanged: not stamped
