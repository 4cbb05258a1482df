"""The demo seed is idempotent; the scale generator writes valid rows."""
import pytest
from django.core.management import call_command

from crm.access.models import User
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_the_demo_users_and_keeps_user_changes():
    call_command("seed_demo", verbosity=0)
    emails = set(User.objects.values_list("email", flat=True))
    from crm.access.demo import DEMO_USERS

    assert {email for email, _ in DEMO_USERS} <= emails
    leads = Lead.objects.count()
    User.objects.filter(email="rep1@demo.local").update(first_name="Changed")

    call_command("seed_demo", verbosity=0)

    assert User.objects.get(email="rep1@demo.local").first_name == "Changed"
    assert Lead.objects.count() == leads > 0
    assert User.objects.get(email="rep1@demo.local").check_password("crm-demo-2026")


def test_demo_sharing_makes_the_hierarchy_matter():
    call_command("seed_demo", verbosity=0)
    rep1 = User.objects.get(email="rep1@demo.local")
    manager = User.objects.get(email="manager@demo.local")

    mine = Lead.objects.visible_to(rep1)
    assert mine.filter(owner__email="rep2@demo.local").count() == 0
    assert Lead.objects.visible_to(manager).filter(owner__email="rep2@demo.local").exists()


def test_seed_scale_writes_leads_with_valid_owners():
    call_command("seed_scale", leads=500, users=11, batch=200, verbosity=0)

    assert Lead.objects.count() == 500
    assert not Lead.objects.filter(owner__isnull=True).exists()
    assert Lead.objects.exclude(email_normalized="").count() == 500


def test_seed_scale_writes_accounts_contacts_and_activities_set_wise():
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import F

    from accounts.models import Account, Contact
    from crm.access.models import ObjectPermission
    from crm.activities.models import Activity
    from opportunities.models import Opportunity

    call_command("seed_scale", leads=300, users=11, batch=200, accounts=60, contacts=150, activities=4000,
                 verbosity=0)

    assert Lead.objects.count() == 300
    assert Account.objects.count() == 60
    assert Contact.objects.count() == 150
    assert Opportunity.objects.count() == 60  # one per account unless --opportunities says otherwise
    assert Activity.objects.count() == 4000
    reps = set(User.objects.filter(email__startswith="bench-rep").values_list("pk", flat=True))
    assert set(Account.objects.values_list("owner_id", flat=True)) <= reps
    # Contacts and opportunities belong to their account's owner; every account has contacts.
    assert not Contact.objects.exclude(owner_id=F("account__owner_id")).exists()
    assert not Opportunity.objects.exclude(owner_id=F("account__owner_id")).exists()
    assert not Account.objects.filter(contacts__isnull=True).exists()
    # Consent: a flag and its time and source go together.
    for flag in ("email_opt_in", "email_opt_out", "do_not_call"):
        assert not Contact.objects.filter(**{flag: True, f"{flag}_at__isnull": True}).exists()
        assert not Contact.objects.filter(**{flag: False}).exclude(**{f"{flag}_source": ""}).exists()
    # Activities attach to all four record types, each to a record that exists, by its owner.
    types = {ContentType.objects.get_for_model(m).pk: m for m in (Lead, Account, Contact, Opportunity)}
    assert set(Activity.objects.values_list("content_type_id", flat=True).distinct()) == set(types)
    for ct, model in types.items():
        ids = set(Activity.objects.filter(content_type_id=ct).values_list("object_id", flat=True))
        assert ids <= set(model.objects.values_list("pk", flat=True))
    assert set(Activity.objects.values_list("kind", flat=True).distinct()) == {"call", "email", "note", "task",
                                                                              "meeting"}
    assert not Activity.objects.filter(kind__in=["task", "meeting"], due_at__isnull=True).exists()
    assert not Activity.objects.filter(kind="meeting", ends_at__isnull=True).exists()
    # bench-rep0-0's account with 2,000 timeline items: on it, its contacts and its opportunities.
    big = Account.objects.get(name="Bench 360 Customer Oy")
    assert big.owner.email == "bench-rep0-0@bench.local"
    on = (Activity.objects.filter(content_type_id=ContentType.objects.get_for_model(Account).pk, object_id=big.pk)
          .count()
          + Activity.objects.filter(content_type_id=ContentType.objects.get_for_model(Contact).pk,
                                    object_id__in=big.contacts.values("pk")).count()
          + Activity.objects.filter(content_type_id=ContentType.objects.get_for_model(Opportunity).pk,
                                    object_id__in=big.opportunities.values("pk")).count())
    assert on == 2000
    assert big.contacts.count() == 20 and big.opportunities.count() == 5
    assert ObjectPermission.objects.filter(profile__name="Bench rep", record_type="accounts.contact",
                                           can_view=True).exists()
    # The indexes dropped for the load are back.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'activities_activity'")
        assert cursor.fetchone()[0] >= 8
