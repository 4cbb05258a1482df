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
