"""The list's saved views and bulk actions, inline editing on the lead page, and query budgets that do not grow."""
import pytest
from django.urls import reverse

from campaigns.models import Campaign, Touch
from crm.access.models import FieldAccess, FieldPermission
from crm.access.visibility import clear_caches
from crm.activities.services import activity_create
from crm.customization.models import PicklistValue
from crm.notifications.models import Notification
from leads import services
from campaigns.services import touch_add
from crm.lists.models import SavedView
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def names(response):
    return {lead.last_name for lead, _ in response.context["rows"]}


def test_builtin_views_my_open_hot_this_week_and_unassigned(client, sales):
    rep, other, manager = sales
    LeadFactory(owner=rep, last_name="MineOpen")
    LeadFactory(owner=rep, last_name="MineLost", lifecycle_stage="unqualified")
    LeadFactory(owner=rep, last_name="MineHot", rating="hot")
    LeadFactory(owner=other, last_name="TheirsHot", rating="hot")
    LeadFactory(owner=None, last_name="Nobody")
    client.force_login(manager)
    assert names(client.get(reverse("leads:list") + "?mine=1&open=1")) == set()
    client.force_login(rep)
    assert names(client.get(reverse("leads:list") + "?mine=1&open=1")) == {"MineOpen", "MineHot"}
    assert names(client.get(reverse("leads:list") + "?rating=hot&created_within=week")) == {"MineHot"}
    client.force_login(manager)
    assert names(client.get(reverse("leads:list") + "?rating=hot&created_within=week")) == {"MineHot", "TheirsHot"}


def test_saved_views_personal_and_shared(client, sales):
    rep, other, _ = sales
    client.force_login(rep)
    response = client.post(reverse("lists:view_save", args=["leads"]), {"name": "Finnish hot", "query": "country=FI&rating=hot"})
    assert response.status_code == 302 and response["Location"].endswith("?country=FI&rating=hot")
    client.post(reverse("lists:view_save", args=["leads"]), {"name": "Team view", "query": "rating=warm", "shared": "on"})
    page = client.get(reverse("leads:list")).content.decode()
    assert "Finnish hot" in page and "Team view" in page
    client.force_login(other)
    page = client.get(reverse("leads:list")).content.decode()
    assert "Finnish hot" not in page and "Team view" in page
    mine = SavedView.objects.get(name="Finnish hot")
    assert client.post(reverse("lists:view_delete", args=[mine.pk])).status_code == 404
    client.force_login(rep)
    client.post(reverse("lists:view_delete", args=[mine.pk]))
    assert not SavedView.objects.filter(pk=mine.pk).exists()


def test_bulk_assign_status_campaign_and_delete_only_touch_what_the_user_may_edit(client, sales):
    rep, other, manager = sales
    mine = [LeadFactory(owner=rep) for _ in range(2)]
    theirs = LeadFactory(owner=other)
    hot = PicklistValue.objects.get(picklist="leads.status", value="hot")
    client.force_login(rep)
    ids = [lead.pk for lead in mine] + [theirs.pk]
    client.post(reverse("lists:bulk", args=["leads"]), {"ids": ids, "action": "status", "value_status": hot.pk})
    assert Lead.objects.filter(status=hot).count() == 2 and Lead.objects.get(pk=theirs.pk).status != hot

    campaign = Campaign.objects.create(name="Fair", owner=rep)
    client.post(reverse("lists:bulk", args=["leads"]), {"ids": ids, "action": "campaign", "value_campaign": campaign.pk})
    assert Touch.objects.filter(campaign=campaign).count() == 2

    response = client.post(reverse("lists:bulk", args=["leads"]), {"ids": ids, "action": "assign", "value_assign": manager.pk},
                           follow=True)
    page = response.content.decode()
    assert Lead.objects.filter(owner=manager).count() == 2 and "1 of the selected records was left unchanged" in page
    assert Notification.objects.filter(recipient=manager).count() == 1  # one notification for the two leads

    # Deleting needs the delete right; the manager may edit (and so delete) what subordinates own.
    from crm.access.models import ObjectPermission

    ObjectPermission.objects.filter(profile=rep.profile, record_type="leads.lead").update(can_delete=False)
    clear_caches()  # what the profile services do on every change
    client.force_login(other)
    assert client.post(reverse("lists:bulk", args=["leads"]), {"ids": ids, "action": "delete"}).status_code == 404
    assert Lead.objects.count() == 3
    ObjectPermission.objects.filter(profile=rep.profile, record_type="leads.lead").update(can_delete=True)
    clear_caches()
    client.force_login(rep)
    client.post(reverse("lists:bulk", args=["leads"]), {"ids": ids, "action": "delete"})  # owns none of them any more
    assert Lead.objects.count() == 3
    client.force_login(manager)
    client.post(reverse("lists:bulk", args=["leads"]), {"ids": ids, "action": "delete"})
    assert not Lead.objects.exists()


def test_inline_edit_saves_one_field_and_respects_read_only(client, sales):
    rep, other, _ = sales
    lead = LeadFactory(owner=rep, title="Buyer")
    client.force_login(rep)
    form = client.get(reverse("leads:field", args=[lead.pk, "title"]), {"edit": "1"}, HTTP_HX_REQUEST="true")
    assert 'name="title"' in form.content.decode() and 'value="Buyer"' in form.content.decode()
    bad = client.post(reverse("leads:field", args=[lead.pk, "email"]), {"email": "nope"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and "Enter a valid email address." in bad.content.decode()
    ok = client.post(reverse("leads:field", args=[lead.pk, "title"]), {"title": "Head of IT"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and "Head of IT" in ok.content.decode()
    lead.refresh_from_db()
    assert lead.title == "Head of IT" and lead.history.count() == 2

    FieldPermission.objects.create(profile=rep.profile, record_type="leads.lead", field_name="title", access=FieldAccess.READ_ONLY)
    from django.core.cache import cache

    cache.delete_pattern("*")  # this process's keys (clear() would flush every test process's)
    client.post(reverse("leads:field", args=[lead.pk, "title"]), {"title": "Changed"}, HTTP_HX_REQUEST="true")
    assert Lead.objects.get(pk=lead.pk).title == "Head of IT"
    client.force_login(other)
    assert client.post(reverse("leads:field", args=[lead.pk, "title"]), {"title": "x"}).status_code == 404


def test_detail_query_budget_does_not_grow_with_the_timeline(client, sales, django_assert_max_num_queries):
    rep, _, _ = sales
    campaign = Campaign.objects.create(name="C", owner=rep)

    def build(n):
        lead = services.lead_create(actor=rep, lead=Lead(last_name="Same", company="Same Company Oy",
                                                         email="same@example.com"))
        for i in range(n):
            activity_create(target=lead, actor=rep, kind="call", subject=f"Call {i}")
            touch_add(record=lead, campaign=campaign, channel="manual")
            services.lead_stage_set(actor=rep, lead=lead, stage="mql" if i % 2 == 0 else "new")
        return lead

    small, big = build(1), build(15)
    client.force_login(rep)
    client.get(reverse("leads:detail", args=[small.pk]))  # warm caches and the recently-viewed rows
    client.get(reverse("leads:detail", args=[big.pk]))
    with django_assert_max_num_queries(40) as small_ctx:
        client.get(reverse("leads:detail", args=[small.pk]))  # warm caches and the recently-viewed rows
    client.get(reverse("leads:detail", args=[big.pk]))
    with django_assert_max_num_queries(40) as big_ctx:
        client.get(reverse("leads:detail", args=[big.pk]))
    assert len(big_ctx.captured_queries) == len(small_ctx.captured_queries)


def test_very_long_lists_are_counted_only_up_to_the_limit(client, sales, settings):
    rep, other, _ = sales
    settings.LIST_COUNT_LIMIT = 3
    for i in range(5):
        LeadFactory(owner=rep, last_name=f"Many{i}")
    client.force_login(rep)
    page = client.get(reverse("leads:list")).content.decode()
    assert "Many4" in page and "Counting…" in page and 'hx-get="/leads/?count=1"' in page
    count = client.get(reverse("leads:list"), {"count": "1"}).content.decode()
    assert "More than 3 leads: filter or search to narrow the list." in count and "<table" not in count
    narrowed = client.get(reverse("leads:list"), {"q": "Many4"}).content.decode()
    assert 'hx-get="/leads/?q=Many4&amp;count=1"' in narrowed
    narrowed = client.get(reverse("leads:list"), {"q": "Many4", "count": "1"}).content.decode()
    assert "1 lead<" in narrowed and "More than" not in narrowed
    client.force_login(other)  # the count is of what the user may see
    assert "0 leads<" in client.get(reverse("leads:list"), {"count": "1"}).content.decode()


def test_country_and_created_date_filters_follow_the_users_days(client, sales):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    rep, _, _ = sales
    helsinki = ZoneInfo("Europe/Helsinki")
    rep.timezone = "Europe/Helsinki"
    rep.save()
    LeadFactory(owner=rep, last_name="LateMonday", country="FI", created_at=datetime(2026, 11, 23, 23, 30, tzinfo=helsinki))
    LeadFactory(owner=rep, last_name="EarlyTuesday", country="SE", created_at=datetime(2026, 11, 24, 0, 30, tzinfo=helsinki))
    client.force_login(rep)
    # 23:30 on Monday in Helsinki is already Monday 21:30 UTC: the day is the user's, not UTC's
    assert names(client.get(reverse("leads:list"), {"created_after": "2026-11-24"})) == {"EarlyTuesday"}
    assert names(client.get(reverse("leads:list"), {"created_before": "2026-11-23"})) == {"LateMonday"}
    assert names(client.get(reverse("leads:list"), {"created_after": "2026-11-23", "created_before": "2026-11-24"})) == {
        "LateMonday", "EarlyTuesday"}
    assert names(client.get(reverse("leads:list"), {"country": " fi "})) == {"LateMonday"}
