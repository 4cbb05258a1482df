"""A contacts file names its accounts: those the importer sees are matched by name in any case, the others are
created once each, owned by the importer, with history and an account.created event; only rows that are
written bring an account. An account the importer cannot see is not matched: they get one of their own
(matching would attach their contact to, and reveal, a record they may not see)."""
import pytest

from accounts.models import Account, Contact
from accounts.tests.factories import AccountFactory
from crm.core.models import Event
from crm.imports.tests.pages import import_file, latest_job, map_and_preview, messages_of, run, upload

CSV = (
    "First Name,Last Name,Email,Account Name\n"
    "Aino,Laine,aino@laine.fi,laine  OY\n"  # the rep's own account, another case and spacing
    "Mikko,Virtanen,mikko@virtanen.fi,Virtanen Ab\n"  # new
    "Sara,Ahmadi,sara@example.ir,VIRTANEN AB\n"  # the same new account
    "Leila,Karimi,leila@example.ir,Hidden Co\n"  # exists, but the rep cannot see it
    "Bad,Row,not-an-email,Never Created Oy\n"  # invalid: its account is not created
    "Solo,Person,solo@example.fi,\n"  # no account
)


@pytest.fixture
def accounts(reps):
    rep, other, _manager = reps
    return (AccountFactory(name="Laine Oy", owner=rep, created_by=rep),
            AccountFactory(name="Hidden Co", owner=other, created_by=other))


@pytest.mark.django_db
def test_accounts_are_matched_by_name_or_created_once(client, rep, accounts):
    laine, hidden = accounts
    # given a contacts file naming accounts, dry run in good-rows mode
    upload(client, "contacts", "contacts.csv", CSV.encode())
    job = latest_job()
    assert job.mapping["Account Name"] == "account"
    map_and_preview(client, job, mode="good_rows")
    # then the dry run says which accounts the import will create, and creates none yet
    assert (job.created_count, job.error_count) == (5, 1)
    assert "New accounts created by the import: “Virtanen Ab”, “Hidden Co”." in messages_of(job)
    assert Account.objects.count() == 2
    # when it is imported
    job = run(client, job)
    assert (job.status, job.created_count) == ("done", 5)
    contacts = {c.last_name: c for c in Contact.objects.select_related("account")}
    # then the visible account is matched whatever its case
    assert contacts["Laine"].account == laine
    # and each missing one is created once, owned by the importer, with history and an event
    virtanen = Account.objects.get(name="Virtanen Ab")
    assert contacts["Virtanen"].account == contacts["Ahmadi"].account == virtanen
    assert (virtanen.owner, virtanen.created_by, virtanen.account_type) == (rep, rep, "prospect")
    assert [(h.history_type, h.history_user) for h in virtanen.history.all()] == [("+", rep)]
    event = Event.objects.get(name="account.created", object_id=virtanen.pk)
    assert (event.actor_id, event.data) == (rep.pk, {"import": job.pk})
    # an account the importer cannot see is not matched: they get their own, and the other stays as it was
    own = contacts["Karimi"].account
    assert own != hidden and (own.name, own.owner) == ("Hidden Co", rep)
    assert hidden.contacts.count() == 0
    # the invalid row brings no account, the row without one has none
    assert not Account.objects.filter(name="Never Created Oy").exists()
    assert contacts["Person"].account is None
    assert Account.objects.count() == 4
    assert Event.objects.filter(name="account.created").count() == 2


@pytest.mark.django_db
def test_a_second_file_finds_the_accounts_the_first_created(client, rep):
    import_file(client, "contacts", "first.csv", b"Last Name,Email,Company\nLaine,a@laine.fi,Laine Oy\n")
    job = import_file(client, "contacts", "second.csv", b"Last Name,Email,Company\nNieminen,n@laine.fi,LAINE OY\n")
    assert (job.status, job.created_count) == ("done", 1)
    assert Account.objects.count() == 1 and set(Contact.objects.values_list("account__name", flat=True)) == {"Laine Oy"}
    assert "New accounts" not in messages_of(job)


@pytest.mark.django_db
def test_skipped_duplicates_bring_no_account(client, rep, reps):
    import_file(client, "contacts", "first.csv", b"Last Name,Email,Company\nLaine,a@laine.fi,Laine Oy\n")
    # another rep re-imports the same person (a duplicate they cannot see) with its company
    client.force_login(reps[1])
    job = import_file(client, "contacts", "again.csv", b"Last Name,Email,Company\nLaine,a@laine.fi,Laine Oy\n")
    assert (job.created_count, job.skipped_count) == (0, 1)
    assert Account.objects.count() == 1
