"""Stage history, sales velocity and win/loss: the arithmetic against numbers worked out by hand, visibility
(a rep's figures are the rep's own deals), field-level security and query budgets."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.access.models import FieldAccess, FieldPermission
from crm.access.tests.factories import TeamFactory, UserFactory
from crm.customization.models import PicklistValue
from opportunities import analytics
from opportunities.models import LOSS_REASON_PICKLIST, ExchangeRate, StageChange
from opportunities.tests.factories import OpportunityFactory, default_pipeline, stage

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def at(y, m, d, h=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=UTC)


def deal(owner, stage_name, amount, *, currency="EUR", created, closed=None, close_date=None, **fields):
    return OpportunityFactory(owner=owner, stage=stage(stage_name), amount=amount, currency=currency,
                              created_at=created, closed_at=closed,
                              close_date=close_date or (closed.date() if closed else dt.date(2026, 6, 30)), **fields)


def moves(opportunity, *steps):
    """Stage changes at chosen times: steps are (stage name, datetime), the first one without a from stage."""
    previous = None
    for name, when in steps:
        StageChange.objects.create(opportunity=opportunity, from_stage=previous, to_stage=stage(name), created_at=when)
        previous = stage(name)


@pytest.fixture
def usd():
    # 1 EUR buys 2 USD: 1,000 USD is 500 EUR.
    ExchangeRate.objects.create(currency="USD", rate=Decimal(2), valid_from=dt.date(2020, 1, 1))


# --- time in stage and conversion --------------------------------------------------------------------------------

def test_time_in_stage_from_consecutive_stage_changes_and_conversion_rates(reps):
    rep, other, manager = reps
    t0 = at(2026, 3, 1)
    x = deal(rep, "Needs analysis", 1000, created=t0)
    moves(x, ("Prospecting", t0), ("Qualification", t0 + dt.timedelta(days=2)),
          ("Needs analysis", t0 + dt.timedelta(days=5)))
    y = deal(rep, "Closed lost", 1000, created=t0, closed=t0 + dt.timedelta(days=5))
    moves(y, ("Prospecting", t0), ("Qualification", t0 + dt.timedelta(days=4)),
          ("Closed lost", t0 + dt.timedelta(days=5)))
    z = deal(rep, "Qualification", 1000, created=t0)
    moves(z, ("Prospecting", t0), ("Qualification", t0 + dt.timedelta(days=12)))
    w = deal(rep, "Closed won", 1000, created=t0, closed=t0 + dt.timedelta(days=12))
    moves(w, ("Prospecting", t0), ("Proposal / price quote", t0 + dt.timedelta(days=6)),
          ("Closed won", t0 + dt.timedelta(days=12)))
    hidden = deal(other, "Qualification", 1000, created=t0)  # another rep's: never in rep's numbers
    moves(hidden, ("Prospecting", t0), ("Qualification", t0 + dt.timedelta(days=100)))

    stats = {s.stage.name: s for s in analytics.stage_history(rep, default_pipeline())}

    # Prospecting stays: 2, 4, 12 and 6 days → average 24 / 4 = 6, median (4 + 6) / 2 = 5.
    assert (stats["Prospecting"].stays, stats["Prospecting"].average_days, stats["Prospecting"].median_days) == (
        4, Decimal("6.0"), Decimal("5.0"))
    # Qualification: x stayed 3 days, y 1 day; z is still there (not counted).
    assert (stats["Qualification"].stays, stats["Qualification"].average_days, stats["Qualification"].median_days) == (
        2, Decimal("2.0"), Decimal("2.0"))
    assert stats["Proposal / price quote"].average_days == Decimal("6.0")
    assert stats["Needs analysis"].stays == 0 and stats["Needs analysis"].average_days is None
    # Conversion: all four reached Prospecting and went further; one was won.
    assert (stats["Prospecting"].reached, stats["Prospecting"].moved_on_rate, stats["Prospecting"].won_rate) == (
        4, Decimal("100.0"), Decimal("25.0"))
    # Qualification: x, y, z reached it; only x went further (y was lost from it, z is still in it).
    assert (stats["Qualification"].reached, stats["Qualification"].moved_on, stats["Qualification"].moved_on_rate,
            stats["Qualification"].won) == (3, 1, Decimal("33.3"), 0)
    assert (stats["Proposal / price quote"].reached, stats["Proposal / price quote"].won_rate) == (1, Decimal("100.0"))

    # The manager also sees the other rep's 100-day stay in Prospecting: 2, 4, 12, 6, 100 → average 124 / 5 =
    # 24.8, median 6.
    manager_stats = {s.stage.name: s for s in analytics.stage_history(manager, default_pipeline())}
    assert (manager_stats["Prospecting"].average_days, manager_stats["Prospecting"].median_days,
            manager_stats["Prospecting"].reached) == (Decimal("24.8"), Decimal("6.0"), 5)


# --- velocity ----------------------------------------------------------------------------------------------------

@pytest.fixture
def june(reps, usd):
    rep, other, manager = reps
    deal(rep, "Closed won", 1000, currency="USD", created=at(2026, 5, 22), closed=at(2026, 6, 11))  # 500 €, 20 days
    deal(rep, "Closed won", 1500, created=at(2026, 6, 1), closed=at(2026, 6, 11))  # 10 days
    deal(rep, "Closed lost", 800, created=at(2026, 4, 1), closed=at(2026, 6, 15),
         loss_reason=PicklistValue.objects.get(picklist=LOSS_REASON_PICKLIST, value="price"))
    deal(rep, "Prospecting", 100, created=at(2026, 5, 1))  # open at the end of June
    deal(rep, "Qualification", 100, created=at(2026, 5, 1))  # open at the end of June
    deal(rep, "Closed won", 100, created=at(2026, 6, 20), closed=at(2026, 7, 2))  # still open when June ended
    deal(rep, "Prospecting", 100, created=at(2026, 7, 5))  # created after June
    deal(rep, "Closed lost", 100, created=at(2026, 4, 1), closed=at(2026, 5, 10))  # closed before June
    deal(other, "Closed won", 3000, created=at(2026, 6, 1), closed=at(2026, 6, 4))  # 3 days
    return reps


def test_velocity_per_rep_is_open_times_size_times_win_rate_over_cycle(june):
    rep, other, manager = june

    june_period = analytics.velocity(rep, "month", dt.date(2026, 6, 1))[-1]
    v = june_period.total

    # Open at the end of June: the two open deals and the one won on 2 July. Won in June: 2, lost: 1.
    assert (v.open_n, v.won_n, v.lost_n) == (3, 2, 1)
    assert v.average_deal == Decimal("1000.00")  # (500 + 1,500) / 2
    assert v.win_rate == Decimal("66.7")
    assert v.cycle == Decimal("15.0")  # (20 + 10) / 2
    assert v.velocity == Decimal("133.33")  # 3 × 1,000 × 2/3 ÷ 15
    assert list(june_period.reps) == [rep.pk]


def test_velocity_for_a_manager_pools_the_team(june):
    rep, other, manager = june
    team = TeamFactory(name="North")
    team.members.add(rep, other)

    june_period = analytics.velocity(manager, "month", dt.date(2026, 6, 1))[-1]
    v = june_period.total

    assert (v.open_n, v.won_n, v.lost_n) == (3, 3, 1)
    assert v.average_deal == Decimal("1666.67")  # 5,000 / 3
    assert v.cycle == Decimal("11.0")  # (20 + 10 + 3) / 3
    assert v.velocity == Decimal("340.91")  # 3 × 5,000/3 × 3/4 ÷ 11
    reps_rows, teams = analytics.velocity_groups(june_period)
    by_user = {g.user_id: g.figures for g in reps_rows}
    assert by_user[rep.pk].velocity == Decimal("133.33")
    assert by_user[other.pk].velocity == Decimal("0.00")  # a win, but no deal open at the end of June
    assert [(t.label, t.figures.velocity) for t in teams] == [("North", Decimal("340.91"))]


def test_velocity_trend_has_six_periods_ending_with_the_chosen_one(june):
    rep, _, _ = june

    periods = analytics.velocity(rep, "month", dt.date(2026, 7, 1))

    assert [p.start for p in periods] == [dt.date(2026, m, 1) for m in (2, 3, 4, 5, 6, 7)]
    may = periods[3].total
    assert (may.won_n, may.lost_n, may.velocity) == (0, 1, None)
    assert periods[4].total.velocity == Decimal("133.33")


def test_quarterly_velocity(june):
    rep, _, _ = june

    q2 = analytics.velocity(rep, "quarter", dt.date(2026, 4, 1))[-1].total

    # Q2: won 2 (500, 1,500), lost 2 (15 June, 10 May); open at 1 July: 3.
    assert (q2.open_n, q2.won_n, q2.lost_n, q2.win_rate, q2.velocity) == (3, 2, 2, Decimal("50.0"), Decimal("100.00"))


# --- win/loss ----------------------------------------------------------------------------------------------------

def test_win_loss_by_rep_source_campaign_reasons_and_lost_stage(reps, usd):
    from campaigns.models import Campaign

    rep, other, manager = reps
    spring = Campaign.objects.create(name="Spring fair", owner=rep)
    price = PicklistValue.objects.get(picklist=LOSS_REASON_PICKLIST, value="price")
    timing = PicklistValue.objects.get(picklist=LOSS_REASON_PICKLIST, value="timing")
    deal(rep, "Closed won", 1000, currency="USD", created=at(2026, 5, 1), closed=at(2026, 6, 3), lead_source="Web",
         campaign=spring)
    deal(rep, "Closed won", 1500, created=at(2026, 5, 1), closed=at(2026, 6, 5), lead_source="Web")
    lost1 = deal(rep, "Closed lost", 800, created=at(2026, 5, 1), closed=at(2026, 6, 7), lead_source="Referral",
                 campaign=spring, loss_reason=price)
    moves(lost1, ("Prospecting", at(2026, 5, 1)), ("Negotiation / review", at(2026, 5, 20)),
          ("Closed lost", at(2026, 6, 7)))
    lost2 = deal(rep, "Closed lost", 200, created=at(2026, 5, 1), closed=at(2026, 6, 9), lead_source="Web",
                 loss_reason=price)
    moves(lost2, ("Prospecting", at(2026, 5, 1)), ("Closed lost", at(2026, 6, 9)))
    lost3 = deal(rep, "Closed lost", 50, created=at(2026, 5, 1), closed=at(2026, 6, 30, 23), loss_reason=timing)
    moves(lost3, ("Qualification", at(2026, 5, 1)), ("Closed lost", at(2026, 6, 30, 23)))
    deal(rep, "Closed lost", 999, created=at(2026, 4, 1), closed=at(2026, 5, 31, 23), loss_reason=price)  # May
    deal(rep, "Prospecting", 999, created=at(2026, 6, 1))  # open
    theirs = deal(other, "Closed lost", 5000, created=at(2026, 5, 1), closed=at(2026, 6, 10), loss_reason=timing,
                  lead_source="Web")
    moves(theirs, ("Prospecting", at(2026, 5, 1)), ("Closed lost", at(2026, 6, 10)))

    result = analytics.win_loss(rep, dt.date(2026, 6, 1), dt.date(2026, 6, 30))

    assert (result["total"].won_n, result["total"].lost_n, result["total"].win_rate) == (2, 3, Decimal("40.0"))
    assert [(r.label, r.won_n, r.lost_n, r.win_rate) for r in result["by_source"]] == [
        ("Web", 2, 1, Decimal("66.7")), ("No lead source", 0, 1, Decimal("0.0")), ("Referral", 0, 1, Decimal("0.0"))]
    assert [(r.label, r.won_n, r.lost_n, r.won_amount, r.lost_amount) for r in result["by_campaign"]] == [
        ("No campaign", 1, 2, Decimal("1500.00"), Decimal("250.00")),
        ("Spring fair", 1, 1, Decimal("500.00"), Decimal("800.00"))]
    assert result["reasons"] == [("Price", 2, Decimal("1000.00")), ("Timing", 1, Decimal("50.00"))]
    assert [(s.name, n, amount) for s, n, amount in result["lost_at"]] == [
        ("Prospecting", 1, Decimal("200.00")), ("Qualification", 1, Decimal("50.00")),
        ("Negotiation / review", 1, Decimal("800.00"))]

    managed = analytics.win_loss(manager, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert [(r.key, r.won_n, r.lost_n) for r in managed["by_rep"]] == [(rep.pk, 2, 3), (other.pk, 0, 1)]
    assert managed["reasons"] == [("Price", 2, Decimal("1000.00")), ("Timing", 2, Decimal("5050.00"))]


# --- pages -------------------------------------------------------------------------------------------------------

def test_stage_history_page_shows_the_numbers_within_a_query_budget(client, june, django_assert_max_num_queries):
    rep, other, manager = june
    client.force_login(manager)
    url = reverse("opportunities:analytics") + "?kind=month&period=5"
    client.get(url)  # warm the per-process caches

    with django_assert_max_num_queries(8):
        response = client.get(reverse("opportunities:analytics") + "?kind=month")
    assert response.status_code == 200
    # More reps and deals do not add queries.
    for i in range(5):
        extra = UserFactory(role=rep.role, profile=rep.profile)
        deal(extra, "Closed won", 100 + i, created=at(2026, 6, 1), closed=at(2026, 6, 2))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("opportunities:analytics") + "?kind=month").status_code == 200


def test_stage_history_page_hides_money_when_amount_is_hidden(client, june):
    rep, _, _ = june
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity", field_name="amount",
                                   access=FieldAccess.HIDDEN)
    from crm.access.visibility import clear_caches

    clear_caches()
    client.force_login(rep)
    page = client.get(reverse("opportunities:analytics") + "?kind=month").content.decode()
    assert "Velocity per day" not in page and "€" not in page and "velocity-data" not in page
    assert "Win rate" in page


def test_win_loss_page_shows_only_the_readers_deals(client, reps, django_assert_max_num_queries):
    rep, other, manager = reps
    deal(rep, "Closed won", 1234, created=at(2026, 6, 1), closed=at(2026, 6, 2), lead_source="Mine")
    deal(other, "Closed won", 4321, created=at(2026, 6, 1), closed=at(2026, 6, 2), lead_source="Theirs")
    client.force_login(rep)
    client.get(reverse("opportunities:win_loss"))

    with django_assert_max_num_queries(10):
        response = client.get(reverse("opportunities:win_loss") + "?start=2026-06-01&end=2026-06-30")
    page = response.content.decode()
    assert response.status_code == 200 and "Mine" in page and "€1,234.00" in page
    assert "Theirs" not in page and "4,321" not in page


def test_win_loss_page_rejects_a_reversed_range(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    response = client.get(reverse("opportunities:win_loss") + "?start=2026-06-30&end=2026-06-01")
    assert response.status_code == 200 and "must not be after its end" in response.content.decode()


def test_analytics_pages_need_the_view_permission(client, reps):
    from crm.access.models import ObjectPermission

    rep, _, _ = reps
    ObjectPermission.objects.filter(profile=rep.profile, record_type="opportunities.opportunity").update(can_view=False)
    from crm.access.visibility import clear_caches

    clear_caches()
    client.force_login(rep)
    for name in ("opportunities:analytics", "opportunities:win_loss"):
        assert client.get(reverse(name)).status_code == 404


def test_velocity_of_one_pipeline_and_over_all_six_periods(june):
    from opportunities.models import Pipeline

    rep, _, _ = june
    other_pipeline = Pipeline.objects.create(name="Renewals")

    periods = analytics.velocity(rep, "month", dt.date(2026, 6, 1), pipeline=default_pipeline())
    assert periods[-1].total.velocity == Decimal("133.33")
    assert analytics.velocity(rep, "month", dt.date(2026, 6, 1), pipeline=other_pipeline)[-1].total.won_n == 0
    # Six months to June: won 2 (20 and 10 days), lost 2 (10 May, 15 June).
    overall = analytics.pooled(periods)
    assert (overall.won_n, overall.lost_n, overall.cycle, overall.win_rate) == (2, 2, Decimal("15.0"), Decimal("50.0"))



def test_each_reps_velocity_trend(june):
    rep, other, manager = june

    trend = dict(analytics.rep_trend(analytics.velocity(manager, "month", dt.date(2026, 6, 1))))

    assert trend[str(rep)] == [None, None, None, None, None, Decimal("133.33")]
    assert trend[str(other)][-1] == Decimal("0.00")
