"""Bulk actions: they change only the ticked records the actor may edit, need the profile right their
action needs (404 without it), and a bulk assign tells each new owner once."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from campaigns.models import Campaign, Touch
from crm.access.models import ObjectPermission
from crm.customization.models import PicklistValue
from crm.lists.tests.conftest import LIST_URLS, bulk, parse, record_type
from crm.notifications.models import Notification

pytestmark = pytest.mark.django_db


def bulk_url(url_name: str) -> str:
    return reverse("lists:bulk", args=[record_type(url_name).slug])


def action_keys(client, url_name: str) -> dict[str, str]:
    """The list's bulk actions as its page offers them: button label → action key."""
    form = parse(client.get(reverse(url_name)).content).find("form", data_bulk_actions=True)
    return {b.text().strip(): b.get("value") for b in form.find_all("button", name="action")} if form else {}


def revoke(user, key: str, **rights) -> None:
    """Change the profile's rights on a type directly (the permission cache is cleared, as a service would)."""
    ObjectPermission.objects.filter(profile=user.profile, record_type=key).update(**rights)
    cache.delete_pattern("*")  # this process's keys (clear() would flush every test process's)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_assign_changes_only_what_the_actor_may_edit_and_tells_each_new_owner_once(
        client, reps, url_name, django_capture_on_commit_callbacks):
    rep, other, manager = reps
    model = record_type(url_name).model
    mine = bulk(url_name, 3, rep)
    theirs = bulk(url_name, 1, other, name="Theirs")
    ids = [r.pk for r in mine + theirs]
    client.force_login(rep)
    assert action_keys(client, url_name).get("Assign") == "assign"
    # When the rep assigns the three of theirs and the other rep's record to the manager
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(bulk_url(url_name), {"ids": ids, "action": "assign", "value_assign": manager.pk,
                                                    "next": reverse(url_name) + "?q=Row"}, follow=True)
    # Then only the rep's three change owner, the rep is told one was left alone, and the list comes back
    assert set(model.objects.filter(owner=manager).values_list("pk", flat=True)) == {r.pk for r in mine}
    assert model.objects.get(pk=theirs[0].pk).owner == other
    page = response.content.decode()
    assert "Assigned to" in page and "1 of the selected records was left unchanged" in page
    assert response.redirect_chain[-1][0] == reverse(url_name) + "?q=Row"
    # ... and the manager has one notification for the three
    assert Notification.objects.filter(recipient=manager).count() == 1
    # When the manager (who may edit both reps' records) gives all four to the other rep
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(bulk_url(url_name), {"ids": ids, "action": "assign", "value_assign": other.pk})
    assert model.objects.filter(owner=other).count() == 4
    assert Notification.objects.filter(recipient=other).count() == 1
    assert Notification.objects.filter(recipient=manager).count() == 1
    # Without the edit right the action is not there at all
    revoke(manager, record_type(url_name).key, can_edit=False)
    assert "Assign" not in action_keys(client, url_name)
    response = client.post(bulk_url(url_name), {"ids": ids, "action": "assign", "value_assign": rep.pk})
    assert response.status_code == 404 and model.objects.filter(owner=other).count() == 4


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_delete_removes_only_what_the_actor_may_edit_and_needs_the_delete_right(client, reps, url_name):
    rep, other, _ = reps
    model = record_type(url_name).model
    mine = bulk(url_name, 2, rep)
    theirs = bulk(url_name, 1, other, name="Theirs")
    ids = [r.pk for r in mine + theirs]
    client.force_login(rep)
    revoke(rep, record_type(url_name).key, can_delete=False)
    assert "Delete" not in action_keys(client, url_name)
    assert client.post(bulk_url(url_name), {"ids": ids, "action": "delete"}).status_code == 404
    assert model.objects.count() == 3
    revoke(rep, record_type(url_name).key, can_delete=True)
    assert action_keys(client, url_name).get("Delete") == "delete"
    response = client.post(bulk_url(url_name), {"ids": ids, "action": "delete"}, follow=True)
    assert "Deleted: 2." in response.content.decode()
    assert list(model.objects.values_list("pk", flat=True)) == [theirs[0].pk]


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_odd_bulk_posts_are_refused_politely(client, reps, url_name):
    rep, other, _ = reps
    model = record_type(url_name).model
    mine = bulk(url_name, 1, rep)
    client.force_login(rep)
    url = bulk_url(url_name)
    for data in ({"ids": ["²", "١", "abc", "-1", "", "9" * 40, "1e3", "\x00"], "action": "assign", "value_assign": other.pk},
                 {"ids": [mine[0].pk], "action": "nonsense"},
                 {"ids": [mine[0].pk], "action": "assign", "value_assign": "nobody"},
                 {"ids": [mine[0].pk], "action": "assign"},
                 {"ids": [], "action": "delete"},
                 {"ids": [mine[0].pk], "action": "\x00"},
                 {"ids": [mine[0].pk], "action": "assign", "value_assign": "\x00", "next": "https://evil.example/"}):
        response = client.post(url, data)
        assert response.status_code == 302, data
        assert not response["Location"].startswith("https://evil")
    assert model.objects.get(pk=mine[0].pk).owner == rep
    assert client.get(url).status_code == 405


def test_the_leads_status_and_campaign_actions_touch_only_what_the_actor_may_edit(client, reps):
    rep, other, _ = reps
    mine = bulk("leads:list", 2, rep)
    theirs = bulk("leads:list", 1, other, name="Theirs")
    ids = [r.pk for r in mine + theirs]
    hot = PicklistValue.objects.get(picklist="leads.status", value="hot")
    campaign = Campaign.objects.create(name="Fair", owner=rep)
    client.force_login(rep)
    keys = action_keys(client, "leads:list")
    status, add = keys["Change status"], keys["Add to campaign"]
    client.post(bulk_url("leads:list"), {"ids": ids, "action": status, f"value_{status}": hot.pk})
    assert set(mine[0]._meta.model.objects.filter(status=hot).values_list("pk", flat=True)) == {r.pk for r in mine}
    client.post(bulk_url("leads:list"), {"ids": ids, "action": add, f"value_{add}": campaign.pk})
    assert Touch.objects.filter(campaign=campaign).count() == 2
    # Both need the edit right
    revoke(rep, "leads.lead", can_edit=False)
    warm = PicklistValue.objects.get(picklist="leads.status", value="warm")
    assert client.post(bulk_url("leads:list"), {"ids": ids, "action": status, f"value_{status}": warm.pk}).status_code == 404
    assert client.post(bulk_url("leads:list"), {"ids": ids, "action": add, f"value_{add}": campaign.pk}).status_code == 404
    assert not mine[0]._meta.model.objects.filter(status=warm).exists()
