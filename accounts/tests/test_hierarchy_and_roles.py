"""The account hierarchy (the tree on the account page, subsidiaries the reader may not open left out, and the
roll-ups of the children's open pipeline and won revenue) and contact roles on accounts (one primary)."""
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import selectors, services
from accounts.models import ContactRole
from accounts.tests.factories import AccountFactory, ContactFactory
from crm.access.models import FieldAccess, FieldPermission
from crm.activities.models import Activity
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db


def _group(rep, other):
    top = AccountFactory(owner=rep, name="Group Oyj")
    finland = AccountFactory(owner=rep, name="Group Finland", parent=top)
    hidden = AccountFactory(owner=other, name="Group Secret", parent=top)
    below_hidden = AccountFactory(owner=rep, name="Group Secret Subsidiary", parent=hidden)
    return top, finland, hidden, below_hidden


def test_the_tree_leaves_out_what_the_reader_may_not_open_and_keeps_its_subsidiaries(client, reps):
    rep, other, manager = reps
    top, finland, hidden, below_hidden = _group(rep, other)
    client.force_login(rep)

    page = client.get(reverse("accounts:detail", args=[top.pk])).content.decode()
    tree = page[page.index("data-account-tree"):page.index("data-rollups")]
    assert "Group Finland" in tree and "Group Secret Subsidiary" in tree
    assert "Group Secret<" not in tree and f'data-account="{hidden.pk}"' not in tree
    # a subsidiary's page shows the line up to the top
    page = client.get(reverse("accounts:detail", args=[below_hidden.pk])).content.decode()
    tree = page[page.index("data-account-tree"):page.index("data-rollups")]
    assert "Group Oyj" in tree and "An account you cannot open" in tree and "Group Secret<" not in tree
    assert ">Group Secret<" not in page  # nor in the parent field of the details

    client.force_login(manager)
    tree = selectors.hierarchy(user=manager, account=top)
    assert [c.name for c in tree.root.children] == ["Group Finland", "Group Secret"]
    assert [c.name for c in tree.root.children[1].children] == ["Group Secret Subsidiary"]


def test_rollups_add_the_subsidiaries_open_pipeline_and_won_revenue_the_reader_may_see(client, reps):
    rep, other, _ = reps
    top, finland, hidden, below_hidden = _group(rep, other)
    OpportunityFactory(owner=rep, account=top, amount=1000)
    OpportunityFactory(owner=rep, account=finland, amount=2500)
    OpportunityFactory(owner=rep, account=below_hidden, amount=500, currency="USD")
    OpportunityFactory(owner=rep, account=finland, amount=7000, stage=stage("Closed won"))
    OpportunityFactory(owner=rep, account=finland, amount=9999, stage=stage("Closed lost"))
    OpportunityFactory(owner=other, account=finland, amount=100000)  # the rep may not see it
    client.force_login(rep)

    rows = {r.key: r for r in client.get(reverse("accounts:detail", args=[top.pk])).context["rollups"]}
    assert "1,000.00" in rows["open_pipeline"].own and "3,500.00" in rows["open_pipeline"].total
    assert "$500.00" in rows["open_pipeline"].total  # other currencies are shown beside, not added
    assert "0.00" in rows["won_revenue"].own and "7,000.00" in rows["won_revenue"].total
    assert "100,000" not in str(rows["open_pipeline"].total) and "9,999" not in str(rows["won_revenue"].total)


def test_money_rollups_are_left_out_when_the_amounts_are_hidden_from_the_reader(client, reps):
    rep, other, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity", field_name="amount",
                                   access=FieldAccess.HIDDEN)
    top = AccountFactory(owner=rep)
    OpportunityFactory(owner=rep, account=AccountFactory(owner=rep, parent=top), amount=1234)
    client.force_login(rep)

    response = client.get(reverse("accounts:detail", args=[top.pk]))
    assert response.context["rollups"] == [] and "1,234" not in response.content.decode()


def test_hierarchy_loops_are_refused_by_the_service(reps):
    rep, _, _ = reps
    top = AccountFactory(owner=rep)
    child = AccountFactory(owner=rep, parent=top)
    before = services.snapshot(top)
    top.parent = child
    with pytest.raises(Exception, match="cannot be its own parent"):
        services.account_update(actor=rep, account=top, before=before)


def test_roles_added_from_the_account_page_one_primary_per_account(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=rep)
    anna = ContactFactory(owner=rep, first_name="Anna", last_name="Aalto")
    bert = ContactFactory(owner=rep, first_name="Bert", last_name="Berg")
    hidden = ContactFactory(owner=other, last_name="Hidden")
    client.force_login(rep)
    url = reverse("accounts:roles", args=[account.pk])

    client.post(url, {"record": anna.pk, "role": "decision_maker", "is_primary": "on"})
    client.post(url, {"record": bert.pk, "role": "champion"})
    client.post(url, {"record": bert.pk, "role": "economic_buyer", "is_primary": "on"})
    refused = client.post(url, {"record": hidden.pk, "role": "user"}, follow=True)
    assert "Pick a contact." in refused.content.decode()

    roles = {(r.contact_id, r.role): r.is_primary for r in ContactRole.objects.filter(account=account)}
    assert roles == {(anna.pk, "decision_maker"): False, (bert.pk, "champion"): False,
                     (bert.pk, "economic_buyer"): True}
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    panel = page[page.index("data-roles"):]
    assert "Economic buyer" in panel and "Champion" in panel and "Decision maker" in panel
    # the role changes are on the account's timeline
    assert Activity.objects.filter(object_id=account.pk, verb="account.role_added").count() == 3

    anna_role = ContactRole.objects.get(contact=anna)
    client.post(reverse("accounts:role_primary", args=[anna_role.pk]))
    assert ContactRole.objects.get(is_primary=True, account=account).contact == anna
    client.post(reverse("accounts:role_remove", args=[anna_role.pk]))
    assert not ContactRole.objects.filter(contact=anna).exists()


def test_a_contact_plays_roles_on_other_accounts_from_its_own_page(client, reps):
    rep, other, _ = reps
    home, partner = AccountFactory(owner=rep, name="Home Oy"), AccountFactory(owner=rep, name="Partner Oy")
    theirs = AccountFactory(owner=other, name="Theirs Oy")
    contact = ContactFactory(owner=rep, account=home)
    client.force_login(rep)

    client.post(reverse("contacts:roles", args=[contact.pk]), {"record": partner.pk, "role": "influencer"})
    client.post(reverse("contacts:roles", args=[contact.pk]), {"record": theirs.pk, "role": "user"})
    assert list(ContactRole.objects.values_list("account__name", "role")) == [("Partner Oy", "influencer")]
    page = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "Partner Oy" in page[page.index("data-roles"):] and "Influencer" in page

    client.force_login(other)  # someone who may not edit the account cannot change its roles
    role = ContactRole.objects.get()
    assert client.post(reverse("accounts:role_remove", args=[role.pk])).status_code == 404
    assert ContactRole.objects.exists()


def test_roles_on_the_account_page_are_only_of_contacts_the_reader_may_see(client, reps):
    rep, other, manager = reps
    account = AccountFactory(owner=rep)
    services.contact_role_add(contact=ContactFactory(owner=other, last_name="Unseen"), account=account,
                              role="champion", actor=other)
    services.contact_role_add(contact=ContactFactory(owner=rep, last_name="Seen"), account=account,
                              role="user", actor=rep)
    assert [str(r.contact.last_name) for r in selectors.account_roles(user=rep, account=account)] == ["Seen"]
    assert len(selectors.account_roles(user=manager, account=account)) == 2
    client.force_login(rep)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Unseen" not in page


def test_rollups_count_what_the_reader_may_see_at_every_level(reps):
    rep, other, manager = reps
    top, finland, hidden, below_hidden = _group(rep, other)
    OpportunityFactory(owner=other, account=hidden, amount=Decimal("400"))
    tree = selectors.hierarchy(user=manager, account=top)
    from accounts.rollups import rollup_rows

    rows = {r.key: r for r in rollup_rows(user=manager, account_id=top.pk, subtree_ids=tree.subtree_ids)}
    assert "400.00" in rows["open_pipeline"].total
    rows = {r.key: r for r in rollup_rows(user=rep, account_id=top.pk,
                                          subtree_ids=selectors.hierarchy(user=rep, account=top).subtree_ids)}
    assert "400" not in rows["open_pipeline"].total


def test_no_tree_when_the_parent_field_is_hidden_from_the_reader(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.account", field_name="parent",
                                   access=FieldAccess.HIDDEN)
    top = AccountFactory(owner=rep, name="Group Top")
    child = AccountFactory(owner=rep, name="Group Child", parent=top)
    OpportunityFactory(owner=rep, account=child, amount=4321)
    client.force_login(rep)

    page = client.get(reverse("accounts:detail", args=[child.pk])).content.decode()
    assert "Group Top" not in page and "data-account-tree" not in page
    page = client.get(reverse("accounts:detail", args=[top.pk])).content.decode()
    assert "Group Child" not in page and "4,321" not in page
