"""Merging two records of a type (crm.core.merge): nothing that pointed at either is lost, the merge page offers
only what the user may write, a failure changes nothing, and an account hierarchy never loops."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.contrib.contenttypes.models import ContentType
from django.forms.models import model_to_dict
from django.urls import reverse

from accounts.models import Account, Contact, ContactRole
from accounts.tests.factories import AccountFactory, ContactFactory
from campaigns.models import Touch
from campaigns.services import touch_add
from campaigns.tests.factories import CampaignFactory
from crm.access.models import FieldAccess
from crm.access.services import profile_field_access_set, profile_save
from crm.activities.models import Activity
from crm.activities.tests.factories import ActivityFactory
from crm.core import relations
from crm.core.history import field_history
from crm.core.merge import MergeRefused, record_merge
from crm.core.models import Event, RecentView
from crm.core.tests.factories import EventFactory, RecentViewFactory
from crm.customization.tests.factories import CustomFieldFactory
from leads.models import Lead, LifecycleStage, LifecycleTransition
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

ACTIVITY, EVENT, RECENT = "activities.Activity.object_id", "core.Event.object_id", "core.RecentView.object_id"


@dataclass
class Pair:
    survivor: object
    other: object
    picked: str  # a model field taken from the other record
    city: str  # the field the other record's history changed
    dropped: dict[str, int] = field(default_factory=dict)  # rows the unique constraints drop, by relation


def _lead_pair(rep):
    survivor = LeadFactory(owner=rep, title="CEO", company="Keep Oy")
    other = LeadFactory(owner=rep, title="CTO", company="Other Oy")
    for lead in (survivor, other):
        LifecycleTransition.objects.create(lead=lead, to_stage=LifecycleStage.NEW)
    return Pair(survivor, other, picked="title", city="city")


def _account_pair(rep):
    survivor = AccountFactory(owner=rep, description="kept")
    other = AccountFactory(owner=rep, description="taken")
    person = ContactFactory(owner=rep)
    ContactRole.objects.create(contact=person, account=survivor, role="decision_maker")
    ContactRole.objects.create(contact=person, account=other, role="decision_maker")  # the same role twice: dropped
    ContactRole.objects.create(contact=person, account=other, role="influencer")
    ContactFactory(owner=rep, account=survivor)
    ContactFactory(owner=rep, account=other)
    OpportunityFactory(owner=rep, account=other)
    AccountFactory(owner=rep, parent=survivor)
    AccountFactory(owner=rep, parent=other)
    LeadFactory(owner=rep, lifecycle_stage=LifecycleStage.CONVERTED, converted_account=other)
    return Pair(survivor, other, picked="description", city="billing_city",
                dropped={"accounts.ContactRole.account": 1})


def _contact_pair(rep):
    survivor = ContactFactory(owner=rep, title="CEO")
    other = ContactFactory(owner=rep, title="CTO")
    company = AccountFactory(owner=rep)
    ContactRole.objects.create(contact=survivor, account=company, role="decision_maker")
    ContactRole.objects.create(contact=other, account=company, role="decision_maker")  # dropped
    ContactRole.objects.create(contact=other, account=company, role="champion")
    OpportunityFactory(owner=rep, contact=other)
    ContactFactory(owner=rep, reports_to=other)
    LeadFactory(owner=rep, lifecycle_stage=LifecycleStage.CONVERTED, converted_contact=other)
    return Pair(survivor, other, picked="title", city="mailing_city",
                dropped={"accounts.ContactRole.contact": 1})


PAIRS = {"leads.lead": _lead_pair, "accounts.account": _account_pair, "accounts.contact": _contact_pair}


def _everything(pair: Pair, rep, manager) -> None:
    """Given both records every generic row, custom-field values and field history of their own."""
    key = f"{pair.survivor._meta.app_label}.{pair.survivor._meta.model_name}"
    CustomFieldFactory(record_type=key, name="tier")
    CustomFieldFactory(record_type=key, name="region")
    ActivityFactory(target=pair.survivor, actor=rep)
    ActivityFactory.create_batch(2, target=pair.other, actor=rep)
    touch_add(record=pair.survivor, campaign=CampaignFactory(owner=rep), channel="manual")
    touch_add(record=pair.other, campaign=CampaignFactory(owner=rep), channel="manual")
    RecentViewFactory(user=rep, target=pair.survivor)
    RecentViewFactory(user=rep, target=pair.other)  # the same user's view of both: one stays
    RecentViewFactory(user=manager, target=pair.other)
    EventFactory(target=pair.other)
    pair.dropped[RECENT] = 1
    for record, values, city in ((pair.survivor, {"tier": "silver", "region": "north"}, "Turku"),
                                 (pair.other, {"tier": "gold", "region": "south"}, "Oulu")):
        record.refresh_from_db()
        record.custom = values
        setattr(record, pair.city, city)
        record.save()


def _related(record) -> dict[str, int]:
    return relations.count_related(record)


@pytest.mark.parametrize("key", list(PAIRS))
def test_merge_loses_nothing_and_leaves_nothing_pointing_at_the_deleted_record(reps, key):
    rep, _, manager = reps
    pair = PAIRS[key](rep)
    _everything(pair, rep, manager)
    survivor, other = pair.survivor, pair.other
    model, old = type(survivor), other.pk
    before_s, before_o = _related(survivor), _related(other)
    assert all(before_o.get(k) for k in ("activities.Activity.object_id", "campaigns.Touch.object_id", EVENT, RECENT))
    assert set(pair.dropped) <= {k for k, v in before_o.items() if v}
    other_history = other.history.count()
    survivor_history = survivor.history.count()
    taken = getattr(other, pair.picked)

    record_merge(actor=rep, survivor=survivor, other=other, take_from_other={pair.picked, "cf_tier"})

    assert not model._base_manager.filter(pk=old).exists()
    survivor.refresh_from_db()
    # Every row of both is on the survivor, but the true duplicates a unique constraint drops; the merge adds
    # its timeline entry and its event.
    added = {ACTIVITY: 1, EVENT: 1}
    expected = {k: before_s[k] + before_o[k] - pair.dropped.get(k, 0) + added.get(k, 0) for k in before_s}
    assert _related(survivor) == expected
    # What was dropped is the other record's copy: the survivor's row stays.
    views = RecentView.objects.filter(content_type__model=model._meta.model_name, object_id=survivor.pk)
    assert sorted(views.values_list("user_id", flat=True)) == sorted([rep.pk, manager.pk])
    if model is not Lead:
        column = "account_id" if model is Account else "contact_id"
        roles = ContactRole.objects.filter(**{column: survivor.pk}).values_list("role", flat=True)
        assert sorted(roles) == sorted(["decision_maker", "influencer" if model is Account else "champion"])
    else:  # attribution: the earlier first touch and the later last touch of the two
        campaigns = list(Touch.objects.order_by("touched_at", "id").values_list("campaign_id", flat=True))
        assert (survivor.first_touch_campaign_id, survivor.last_touch_campaign_id) == (campaigns[0], campaigns[-1])
    # Nothing points at the old id any more: the record's "deleted" event is the log of what happened.
    for rel in relations.reverse_foreign_keys(model):
        assert not rel.related_model._base_manager.filter(**{rel.field.name: old}).exists(), rel
    ct = ContentType.objects.get_for_model(model)
    for related, ct_field, fk_field in relations.generic_relations():
        left = related._base_manager.filter(**{ct_field: ct, fk_field: old})
        if related is Event:
            assert list(left.values_list("name", flat=True)) == [f"{model._meta.model_name}.deleted"]
        else:
            assert not left.exists(), related
    # The other record's history is the survivor's now, as a thread of its own (only its deletion stays behind).
    assert survivor.history.filter(history_change_reason=f"merged:{old}").count() == other_history
    assert survivor.history.exclude(history_change_reason=f"merged:{old}").count() == survivor_history + 1
    assert list(model.history.filter(id=old).values_list("history_type", flat=True)) == ["-"]
    thread = [e for e in field_history(survivor, rep) if e.merged_from == str(old)]
    assert {(c.field, c.new) for e in thread for c in e.changes} >= {(pair.city, "Oulu"), ("cf_tier", "gold")}
    # Picked fields come from the other record, custom fields key by key; the rest stay the survivor's.
    assert getattr(survivor, pair.picked) == taken
    assert survivor.custom == {"tier": "gold", "region": "north"}
    assert getattr(survivor, pair.city) == "Turku"
    merged = Activity.objects.get(content_type=ct, object_id=survivor.pk, verb="merged")
    assert merged.data["merged"] == old and merged.actor == rep
    event = Event.objects.get(content_type=ct, object_id=survivor.pk, name=f"{model._meta.model_name}.merged")
    assert event.data["merged"] == old


def test_merge_keeps_the_specific_relations_on_the_survivor(reps):
    rep, _, _ = reps
    pair = _account_pair(rep)
    survivor, other = pair.survivor, pair.other
    record_merge(actor=rep, survivor=survivor, other=other, take_from_other=set())
    assert set(ContactRole.objects.values_list("account_id", "role")) == {(survivor.pk, "decision_maker"),
                                                                         (survivor.pk, "influencer")}
    assert Opportunity.objects.get().account_id == survivor.pk
    assert Contact.objects.filter(account=survivor).count() == 2
    assert Account.objects.filter(parent=survivor).count() == 2
    assert Lead.objects.get(lifecycle_stage=LifecycleStage.CONVERTED).converted_account_id == survivor.pk


def test_a_record_merged_twice_keeps_each_merged_records_history_apart(reps):
    """B merged into A, then A into C: B's rows stay B's thread, A's rows A's; no two records' values are diffed."""
    rep, _, _ = reps
    a, b, c = (LeadFactory(owner=rep, city=city) for city in ("Aura", "Kemi", "Salo"))
    record_merge(actor=rep, survivor=a, other=b, take_from_other=set())
    record_merge(actor=rep, survivor=c, other=a, take_from_other=set())
    assert set(c.history.values_list("history_change_reason", flat=True)) == {None, f"merged:{a.pk}",
                                                                             f"merged:{b.pk}"}
    threads = {e.merged_from for e in field_history(c, rep)}
    assert threads == {"", str(a.pk), str(b.pk)}


def test_a_contact_reporting_to_the_merged_contact_does_not_report_to_itself(reps):
    rep, _, _ = reps
    boss, deputy = ContactFactory(owner=rep), ContactFactory(owner=rep)
    Contact.objects.filter(pk=deputy.pk).update(reports_to=boss)
    team = ContactFactory(owner=rep, reports_to=boss)

    record_merge(actor=rep, survivor=deputy, other=boss, take_from_other=set())

    assert dict(Contact.objects.values_list("pk", "reports_to_id")) == {deputy.pk: None, team.pk: deputy.pk}


def test_the_history_tab_survives_a_change_that_named_the_merged_record(client, reps):
    rep, _, _ = reps
    keep, gone = AccountFactory(owner=rep), AccountFactory(owner=rep)
    person = ContactFactory(owner=rep)
    person.account = gone
    person.save()  # a history row naming the account merged away below
    record_merge(actor=rep, survivor=keep, other=gone, take_from_other=set())
    client.force_login(rep)
    assert client.get(person.get_absolute_url()).status_code == 200


def test_a_notification_about_the_merged_record_still_leads_somewhere(client, reps):
    from crm.notifications.models import Notification
    from crm.notifications.services import notification_send

    rep, _, _ = reps
    keep, gone = LeadFactory(owner=rep), LeadFactory(owner=rep)
    notification_send(recipient=rep, message="Assigned to you", target=gone, verb="lead.assigned")
    record_merge(actor=rep, survivor=keep, other=gone, take_from_other=set())
    client.force_login(rep)
    notification = Notification.objects.get()
    assert notification.link == keep.get_absolute_url() and client.get(notification.link).status_code == 200


# --- through the page --------------------------------------------------------------------------------------

def _merge_url(record, other=None):
    url = reverse("records:merge", args=[record.record_type.slug, record.pk])
    return f"{url}?other={other.pk}" if other is not None else url


def test_merge_page_offers_only_differing_fields_the_user_may_write(client, reps):
    rep, _, _ = reps
    CustomFieldFactory(record_type="leads.lead", name="tier")
    profile_field_access_set(actor=None, profile=rep.profile, record_type="leads.lead",
                             access={"title": FieldAccess.HIDDEN, "website": FieldAccess.READ_ONLY})
    keep = LeadFactory(owner=rep, last_name="Same", title="CEO", website="https://keep.example.com", phone="111",
                       custom={"tier": "silver"})
    other = LeadFactory(owner=rep, last_name="Same", title="CTO", website="https://other.example.com", phone="222",
                        custom={"tier": "gold"})
    client.force_login(rep)

    response = client.get(_merge_url(keep, other))

    offered = {r["name"] for r in response.context["rows"]}
    assert {"phone", "email", "company", "first_name", "cf_tier"} <= offered
    assert not offered & {"title", "website", "last_name", "score", "lifecycle_stage"}
    page = response.content.decode()
    assert "CTO" not in page and "other.example.com" not in page

    response = client.post(_merge_url(keep, other), {"other": other.pk, "pick_phone": "other", "pick_title": "other",
                                                     "pick_website": "other", "pick_cf_tier": "other"})

    assert response.status_code == 302 and response["Location"] == keep.get_absolute_url()
    keep.refresh_from_db()
    assert (keep.phone, keep.title, keep.website, keep.custom) == ("222", "CEO", "https://keep.example.com",
                                                                   {"tier": "gold"})
    assert not Lead.objects.filter(pk=other.pk).exists()


def test_merge_page_tells_apart_different_values_that_read_the_same(client, reps):
    """Two owners of one name, two parents of one name: still different values, so still offered."""
    rep, other_rep, manager = reps
    other_rep.first_name, other_rep.last_name = rep.first_name, rep.last_name
    other_rep.save()
    twins = AccountFactory(owner=rep, name="Twin"), AccountFactory(owner=rep, name="Twin")
    keep = AccountFactory(owner=rep, name="Acme", parent=twins[0])
    other = AccountFactory(owner=other_rep, name="Acme", parent=twins[1])
    client.force_login(manager)

    offered = {r["name"] for r in client.get(_merge_url(keep, other)).context["rows"]}

    assert {"owner", "parent"} <= offered


def test_other_reps_get_404_for_records_they_may_not_edit(client, reps):
    rep, other_rep, _ = reps
    keep, other = LeadFactory(owner=rep), LeadFactory(owner=rep)
    theirs = LeadFactory(owner=other_rep)
    client.force_login(other_rep)
    assert client.get(_merge_url(keep, other)).status_code == 404
    assert client.post(_merge_url(keep, other), {"other": other.pk}).status_code == 404
    assert client.post(_merge_url(theirs, keep), {"other": keep.pk}).status_code == 404
    assert client.get(reverse("records:merge", args=["opportunities", OpportunityFactory(owner=other_rep).pk]),
                      {"other": 1}).status_code == 404
    assert Lead.objects.count() == 3


def test_merging_needs_the_right_to_delete(client, reps):
    """The other record is deleted: a user who may edit but not delete leads cannot merge them."""
    rep, _, _ = reps
    profile_save(actor=None, profile=rep.profile, permissions={"leads.lead": {"view", "create", "edit"}})
    keep, other = LeadFactory(owner=rep, email="same@example.com"), LeadFactory(owner=rep, email="same@example.com")
    client.force_login(rep)
    response = client.post(_merge_url(keep, other), {"other": other.pk}, follow=True)
    assert "These records cannot be merged." in response.content.decode()
    assert Lead.objects.count() == 2
    panel = client.get(reverse("records:duplicates", args=["leads", keep.pk])).content.decode()
    assert reverse("leads:detail", args=[other.pk]) in panel and "?other=" not in panel


def test_converted_leads_cannot_be_merged(client, reps):
    rep, _, _ = reps
    keep = LeadFactory(owner=rep, title="CEO")
    converted = LeadFactory(owner=rep, title="CTO", lifecycle_stage=LifecycleStage.CONVERTED)
    client.force_login(rep)
    for survivor, other in ((keep, converted), (converted, keep)):
        response = client.post(_merge_url(survivor, other), {"other": other.pk, "pick_title": "other"}, follow=True)
        assert "These records cannot be merged." in response.content.decode()
    with pytest.raises(MergeRefused, match="Converted leads cannot be merged."):
        record_merge(actor=rep, survivor=keep, other=converted, take_from_other={"title"})
    assert [(lead.title, lead.lifecycle_stage) for lead in Lead.objects.order_by("pk")] == [
        ("CEO", LifecycleStage.NEW), ("CTO", LifecycleStage.CONVERTED)]


def test_merging_a_record_with_itself_is_refused(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    response = client.post(_merge_url(lead, lead), {"other": lead.pk}, follow=True)
    assert "These records cannot be merged." in response.content.decode()
    with pytest.raises(MergeRefused):
        record_merge(actor=rep, survivor=lead, other=lead, take_from_other=set())
    assert Lead.objects.filter(pk=lead.pk).exists() and not Activity.objects.filter(verb="merged").exists()


def test_a_record_merged_away_meanwhile_is_refused_not_a_crash(reps):
    rep, _, _ = reps
    keep, other = LeadFactory(owner=rep), LeadFactory(owner=rep)
    Lead.objects.filter(pk=other.pk).delete()  # someone else merged or deleted it first
    with pytest.raises(MergeRefused, match="no longer exists"):
        record_merge(actor=rep, survivor=keep, other=other, take_from_other=set())
    assert Lead.objects.filter(pk=keep.pk).exists()


def _state(*records) -> dict:
    """Every value of both records and everything pointing at them, to compare before and after."""
    state = {}
    for record in records:
        fresh = type(record)._base_manager.get(pk=record.pk)
        ct = ContentType.objects.get_for_model(record)
        state[record.pk] = {
            "fields": model_to_dict(fresh), "custom": fresh.custom, "related": _related(fresh),
            "history": list(fresh.history.values_list("history_id", "history_change_reason")),
            "activities": list(Activity.objects.filter(content_type=ct, object_id=record.pk)
                               .values_list("pk", "subject")),
            "roles": list(ContactRole.objects.order_by("pk").values_list("pk", "contact_id", "account_id", "role")),
            "recent": list(RecentView.objects.order_by("pk").values_list("pk", "user_id", "object_id")),
        }
    return state


def test_a_failure_mid_merge_leaves_both_records_and_their_relations_as_they_were(client, reps, monkeypatch):
    import crm.core.merge

    rep, _, manager = reps
    pair = _contact_pair(rep)
    _everything(pair, rep, manager)
    keep, other = pair.survivor, pair.other
    before = _state(keep, other)
    real, calls = crm.core.merge.repoint, []

    def repoint_then_fail(**kwargs):
        moved = real(**kwargs)  # every row really moved first: the rollback must bring them back
        calls.append(moved)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return moved

    monkeypatch.setattr(crm.core.merge, "repoint", repoint_then_fail)
    client.force_login(rep)
    with pytest.raises(RuntimeError):
        client.post(_merge_url(keep, other), {"other": other.pk, "pick_title": "other", "pick_cf_tier": "other"})

    assert calls and _state(keep, other) == before
    # The next attempt goes through.
    response = client.post(_merge_url(keep, other), {"other": other.pk, "pick_title": "other"})
    assert response.status_code == 302 and not Contact.objects.filter(pk=other.pk).exists()


# --- account hierarchies ---------------------------------------------------------------------------------

def test_merging_an_account_into_its_child_does_not_make_it_its_own_parent(client, reps):
    rep, _, _ = reps
    parent = AccountFactory(owner=rep, name="Acme Group")
    child = AccountFactory(owner=rep, name="Acme Group Oy", parent=parent)
    sibling = AccountFactory(owner=rep, parent=parent)
    client.force_login(rep)

    client.post(_merge_url(child, parent), {"other": parent.pk})

    child.refresh_from_db()
    sibling.refresh_from_db()
    assert child.parent_id is None and sibling.parent_id == child.pk


def test_merging_an_account_into_its_parent_does_not_make_it_its_own_parent(client, reps):
    """The child's parent is the survivor: taking it (the screen proposes it, the survivor having none) would
    point the survivor at itself."""
    rep, _, _ = reps
    parent = AccountFactory(owner=rep, name="Acme Group")
    child = AccountFactory(owner=rep, name="Acme Group Oy", parent=parent)
    client.force_login(rep)
    rows = {r["name"]: r for r in client.get(_merge_url(parent, child)).context["rows"]}
    assert "parent" not in rows or not rows["parent"]["pick_right"]

    client.post(_merge_url(parent, child), {"other": child.pk, "pick_parent": "other"})

    parent.refresh_from_db()
    assert parent.parent_id is None and not Account.objects.filter(pk=child.pk).exists()


def test_merging_across_a_hierarchy_leaves_no_loop(reps):
    """group ← division ← unit: the unit kept, the group merged into it. The division, the group's child, becomes
    the unit's child, while the unit's parent is the division: the survivor gives up its parent to break the loop."""
    rep, _, _ = reps
    group = AccountFactory(owner=rep)
    division = AccountFactory(owner=rep, parent=group)
    unit = AccountFactory(owner=rep, parent=division)

    record_merge(actor=rep, survivor=unit, other=group, take_from_other=set())

    parents = dict(Account.objects.values_list("pk", "parent_id"))
    assert parents == {unit.pk: None, division.pk: unit.pk}
