"""The demo gives accounts in groups (a parent with subsidiaries, one with its own), contacts with buying roles
and one primary per account, and consent recorded with its time and source; a rep's own group shows its tree
and roll-ups."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Account, Contact, ContactRole
from crm.access.models import User

pytestmark = pytest.mark.django_db


def test_demo_accounts_have_groups_roles_and_consent(client):
    call_command("seed_demo", verbosity=0)

    group = Account.objects.get(name="Pohjola Holdings Oyj")
    assert group.children.count() == 2
    assert any(child.children.exists() for child in group.children.all())
    # every account with roles has exactly one primary contact role
    for account in Account.objects.filter(contact_roles__isnull=False).distinct():
        assert account.contact_roles.filter(is_primary=True).count() == 1, account
    assert set(ContactRole.objects.values_list("role", flat=True)) >= {"decision_maker", "economic_buyer",
                                                                       "influencer"}
    opted_in = Contact.objects.filter(email_opt_in=True)
    assert opted_in.exists() and not opted_in.filter(email_opt_in_at__isnull=True).exists()
    assert Contact.objects.filter(reports_to__isnull=False).exists()

    rep1 = User.objects.get(email="rep1@demo.local")
    client.force_login(rep1)
    page = client.get(reverse("accounts:detail", args=[group.pk])).content.decode()
    assert "data-account-tree" in page and "data-rollups" in page

    accounts = Account.objects.count()
    call_command("seed_demo", verbosity=0)  # idempotent
    assert Account.objects.count() == accounts
