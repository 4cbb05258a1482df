"""The sales dashboard: each figure worked out by hand over what the reader may see, each link opening a list
of exactly the records the figure counts, fresh after a change, and a constant number of queries."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.access.models import Access
from crm.access.tests.factories import ProfileFactory, RoleFactory, UserFactory, set_org_default
from leads.models import LifecycleTransition
from leads.tests.factories import LeadFactory
from opportunities import dashboard
from opportunities.forecasts import period_start, shift
from opportunities.models import ExchangeRate, Quota
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db


def deal(owner, stage_name, amount, *, currency="EUR", closed_at=None, **fields):
    opportunity = OpportunityFactory(owner=owner, stage=stage(stage_name), amount=amount, currency=currency,
                                     close_date=timezone.localdate(), **fields)
    if closed_at:
        type(opportunity).objects.filter(pk=opportunity.pk).update(closed_at=closed_at)
    return opportunity


@pytest.fixture
def team(db):
    """A manager over two reps, and a rep of another branch; deals private, 1 € = 2 $."""
    set_org_default("opportunities.opportunity", Access.PRIVATE)
    set_org_default("leads.lead", Access.PRIVATE)
    ExchangeRate.objects.create(currency="USD", rate=Decimal(2), valid_from=dt.date(2020, 1, 1))
    profile = ProfileFactory()
    top = RoleFactory(name="CEO")
    manager_role = RoleFactory(name="Sales manager", parent=top)
    rep_role = RoleFactory(name="Sales rep", parent=manager_role)
    other_role = RoleFactory(name="Other rep", parent=top)
    return {
        "manager": UserFactory(role=manager_role, profile=profile, first_name="Max"),
        "rita": UserFactory(role=rep_role, profile=profile, first_name="Rita"),
        "rolf": UserFactory(role=rep_role, profile=profile, first_name="Rolf"),
        "other": UserFactory(role=other_role, profile=profile, first_name="Otto"),
    }


def listed_count(client, url) -> int:
    """How many records the list a figure links to shows (its count line)."""
    response = client.get(url)
    assert response.status_code == 200, url
    prefix = url.split("?")[0]
    return len(set(re.findall(rf'href="{re.escape(prefix)}(\d+)/"', response.content.decode())))


def test_pipeline_by_stage_counts_the_readers_open_deals_in_the_corporate_currency(team, client):
    rita, rolf, other = team["rita"], team["rolf"], team["other"]
    deal(rita, "Prospecting", 1000, probability=10)  # weighted 100
    deal(rita, "Prospecting", 600, currency="USD", probability=50)  # 300 €, weighted 150
    deal(rolf, "Negotiation / review", 4000, probability=80)  # weighted 3,200
    deal(rolf, "Closed won", 9000)  # not open: not in the pipeline
    deal(other, "Prospecting", 7000)  # another branch

    result = dashboard.dashboard(team["manager"])
    bars = {bar.label: bar for bar in result["stages"]}

    assert [bar.label for bar in result["stages"]][:2] == ["Prospecting", "Qualification"]
    assert (bars["Prospecting"].count, bars["Prospecting"].amount, bars["Prospecting"].weighted) == (
        2, Decimal("1300.00"), Decimal("250.00"))
    assert (bars["Negotiation / review"].count, bars["Negotiation / review"].amount) == (1, Decimal("4000.00"))
    assert bars["Qualification"].count == 0
    assert (result["stages_total"].count, result["stages_total"].amount) == (3, Decimal("5300.00"))
    assert dashboard.dashboard(rita)["stages_total"].amount == Decimal("1300.00")  # a rep: their own

    client.force_login(team["manager"])
    assert listed_count(client, bars["Prospecting"].url) == 2
    assert listed_count(client, result["stages_total"].url) == 3


def test_forecast_against_quota_is_this_quarters_forecast(team):
    rita = team["rita"]
    quarter = period_start(timezone.localdate(), "quarter")
    deal(rita, "Closed won", 2500)
    deal(rita, "Proposal / price quote", 1000)  # commit
    Quota.objects.create(user=rita, period_kind="quarter", period_start=quarter, amount=10000)

    result = dashboard.dashboard(team["manager"])
    figures = {bar.label: (bar.count, bar.amount) for bar in result["forecast_figures"]}

    assert figures["Closed won"] == (1, Decimal("2500.00")) and figures["Commit"] == (1, Decimal("1000.00"))
    assert result["forecast"].total.quota == Decimal("10000") and result["forecast"].total.attainment == Decimal("25.0")
    assert result["chart"]["forecast"]["quota"] == 10000.0
    assert "category=won" in result["forecast_figures"][0].url


def test_win_rate_per_quarter_counts_deals_by_when_they_closed(team, client):
    rita = team["rita"]
    today = timezone.localdate()
    this_quarter = period_start(today, "quarter")
    last_quarter = shift(this_quarter, "quarter", -1)
    in_last = timezone.make_aware(dt.datetime.combine(last_quarter + dt.timedelta(days=10), dt.time(12)))
    deal(rita, "Closed won", 1000, closed_at=in_last)
    deal(rita, "Closed lost", 1000, closed_at=in_last)
    deal(rita, "Closed lost", 1000, closed_at=in_last)
    deal(rita, "Closed won", 3000, closed_at=timezone.now())
    deal(team["other"], "Closed lost", 500, closed_at=timezone.now())  # not visible to the manager

    trend = {t.start: t for t in dashboard.dashboard(team["manager"])["trend"]}

    assert len(trend) == 4 and max(trend) == this_quarter
    assert (trend[last_quarter].won_n, trend[last_quarter].lost_n, trend[last_quarter].win_rate) == (
        1, 2, Decimal("33.3"))
    assert (trend[this_quarter].won_n, trend[this_quarter].lost_n, trend[this_quarter].win_rate) == (
        1, 0, Decimal("100.0"))
    client.force_login(team["manager"])
    assert listed_count(client, trend[last_quarter].lost_url) == 2
    assert listed_count(client, trend[last_quarter].won_url) == 1
    assert client.get(trend[this_quarter].velocity_url).status_code == 200


def test_lead_funnel_counts_each_step_reached_and_its_links_list_the_same_leads(team, client):
    rita, other = team["rita"], team["other"]
    assert dashboard.dashboard(team["manager"])["funnel"] is None  # no lifecycle history yet

    def lead(owner, *steps, now=None):
        record = LeadFactory(owner=owner, lifecycle_stage=now or (steps[-1] if steps else "new"))
        for step in steps:
            LifecycleTransition.objects.create(lead=record, to_stage=step)
        return record

    lead(rita)  # created, never qualified
    lead(rita, "mql")
    lead(rita, "mql", "sal", "sql", now="unqualified")  # reached SQL once, unqualified now: still counted
    won = lead(rita, "mql", "sal", "sql", "converted")
    won.converted_opportunity = deal(rita, "Closed won", 100)
    won.save()
    lead(other, "mql")  # another branch: not counted

    result = dashboard.dashboard(team["manager"])["funnel"]
    steps = {step["key"]: step for step in result["steps"]}

    assert result["created"] == 4
    assert [steps[k]["count"] for k in ("mql", "sal", "sql", "won")] == [3, 2, 2, 1]
    client.force_login(team["manager"])
    for key in ("mql", "sal", "sql", "won"):
        assert listed_count(client, steps[key]["url"]) == steps[key]["count"], key


def test_top_open_deals_are_the_largest_visible_open_ones(team):
    rita, other = team["rita"], team["other"]
    small = deal(rita, "Prospecting", 100)
    big = deal(rita, "Qualification", 500, currency="USD")  # 250 €
    deal(rita, "Closed won", 99999)
    deal(other, "Prospecting", 88888)

    assert dashboard.dashboard(team["manager"])["top_deals"] == [big, small]


def test_page_and_home_show_it_fresh_and_hide_it_from_readers_without_amounts(team, client):
    from crm.access.models import FieldAccess, FieldPermission
    from crm.access.visibility import access_config

    rita = team["rita"]
    opportunity = deal(rita, "Prospecting", 1234)
    client.force_login(team["manager"])

    home = client.get(reverse("home")).content.decode()
    assert 'id="home-sales-dashboard"' in home and "€1,234.00" in home
    assert home.index('id="home-sales-dashboard"') < home.index('id="my-day-h"')  # a manager's home opens with it
    client.force_login(rita)
    home = client.get(reverse("home")).content.decode()
    assert home.index('id="home-sales-dashboard"') > home.index('id="my-day-h"')  # a rep's: after My day

    type(opportunity).objects.filter(pk=opportunity.pk).update(amount=4321, amount_corporate=4321)
    assert "€4,321.00" in client.get(reverse("opportunities:dashboard")).content.decode()  # no stale cache

    FieldPermission.objects.create(profile=rita.profile, record_type="opportunities.opportunity",
                                   field_name="amount", access=FieldAccess.HIDDEN)
    access_config.changed()  # as the services that save field permissions do
    assert client.get(reverse("opportunities:dashboard")).status_code == 404
    assert "home-sales-dashboard" not in client.get(reverse("home")).content.decode()


def test_the_dashboard_costs_the_same_queries_with_more_reps_and_deals(team, client):
    client.force_login(team["manager"])
    deal(team["rita"], "Prospecting", 100)
    LifecycleTransition.objects.create(lead=LeadFactory(owner=team["rita"]), to_stage="mql")
    client.get(reverse("opportunities:dashboard"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("opportunities:dashboard")).status_code == 200
    rep_role = team["rita"].role
    for n in range(6):
        rep = UserFactory(role=rep_role, profile=team["rita"].profile)
        deal(rep, "Qualification", 100 + n)
        deal(rep, "Closed won", 50, closed_at=timezone.now())
        LifecycleTransition.objects.create(lead=LeadFactory(owner=rep), to_stage="sal")
    client.get(reverse("opportunities:dashboard"))  # new users: the directory cache reloads once
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("opportunities:dashboard")).status_code == 200
    assert len(many) == len(few) <= 30


def test_the_demo_gives_every_figure_something_to_show():
    """Two pipelines with deals in every open stage, a year of won and lost deals, quotas, and leads converted
    through to won deals, as the CEO sees them on the first visit."""
    from django.core.management import call_command

    from crm.access.models import User
    from opportunities.models import Pipeline

    call_command("seed_demo", verbosity=0)
    ceo = User.objects.get(email="ceo@demo.local")
    for pipeline in Pipeline.objects.all():
        result = dashboard.dashboard(ceo, pipeline_id=pipeline.pk)
        assert all(bar.count for bar in result["stages"]), (pipeline, [(b.label, b.count) for b in result["stages"]])
    result = dashboard.dashboard(ceo)
    assert result["forecast"].total.quota and result["top_deals"]
    assert sum(t.won_n for t in result["trend"]) and sum(t.lost_n for t in result["trend"])
    assert all(step["count"] for step in result["funnel"]["steps"]), result["funnel"]["steps"]
