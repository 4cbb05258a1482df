"""Merging contacts and accounts keeps one primary contact role per account and a role both contacts had once,
and consent taken from the merged contact keeps when and how it was given (an opt-out withdraws an opt-in).
That every related row is re-pointed is crm/core/tests' (rows counted before and after for every type)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import Account, ConsentSource, Contact, ContactRole
from accounts.tests.factories import AccountFactory, ContactFactory
from crm.core.merge import record_merge

pytestmark = pytest.mark.django_db


def test_contact_merge_keeps_one_primary_role_and_no_duplicate_roles(reps):
    rep = reps[0]
    home, partner = AccountFactory(owner=rep), AccountFactory(owner=rep)
    survivor = ContactFactory(owner=rep, account=home)
    other = ContactFactory(owner=rep, account=home)
    services.contact_role_add(contact=survivor, account=home, role="decision_maker", actor=rep)
    services.contact_role_add(contact=other, account=home, role="decision_maker", is_primary=True, actor=rep)
    services.contact_role_add(contact=other, account=partner, role="champion", actor=rep)

    record_merge(actor=rep, survivor=survivor, other=other, take_from_other=set())

    roles = sorted(ContactRole.objects.values_list("contact_id", "account_id", "role", "is_primary"))
    assert roles == sorted([(survivor.pk, home.pk, "decision_maker", True),
                            (survivor.pk, partner.pk, "champion", False)])
    assert not Contact.objects.filter(pk=other.pk).exists()


def test_account_merge_keeps_the_survivors_primary_contact(reps):
    rep = reps[0]
    survivor, other = AccountFactory(owner=rep), AccountFactory(owner=rep)
    anna, bert = ContactFactory(owner=rep, account=survivor), ContactFactory(owner=rep, account=other)
    services.contact_role_add(contact=anna, account=survivor, role="economic_buyer", is_primary=True, actor=rep)
    services.contact_role_add(contact=bert, account=other, role="decision_maker", is_primary=True, actor=rep)
    child = AccountFactory(owner=rep, parent=other)

    record_merge(actor=rep, survivor=survivor, other=other, take_from_other=set())

    assert list(ContactRole.objects.filter(is_primary=True).values_list("contact_id", flat=True)) == [anna.pk]
    assert ContactRole.objects.filter(account=survivor).count() == 2
    child.refresh_from_db()
    bert.refresh_from_db()
    assert child.parent_id == survivor.pk and bert.account_id == survivor.pk
    assert not Account.objects.filter(pk=other.pk).exists()


def test_consent_taken_from_the_other_contact_keeps_its_time_and_source(reps):
    rep = reps[0]
    then = timezone.now() - timedelta(days=30)
    survivor = ContactFactory(owner=rep, email_opt_in=True, email_opt_in_at=then,
                              email_opt_in_source=ConsentSource.WEB_FORM)
    other = ContactFactory(owner=rep, email_opt_out=True, email_opt_out_at=then,
                           email_opt_out_source=ConsentSource.IMPORT)

    record_merge(actor=rep, survivor=survivor, other=other, take_from_other={"email_opt_out"})

    survivor.refresh_from_db()
    assert survivor.email_opt_out and survivor.email_opt_out_at == then
    assert survivor.email_opt_out_source == ConsentSource.IMPORT
    assert not survivor.email_opt_in and survivor.email_opt_in_source == ConsentSource.MERGE
