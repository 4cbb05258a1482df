"""Forecasts rolled up through the role hierarchy, in the corporate currency, with quotas and attainment;
drill-downs; the quota page; visibility and query budgets. Expected numbers are worked out by hand."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.access.models import Access
from crm.access.tests.factories import AdminFactory, ProfileFactory, RoleFactory, UserFactory, set_org_default
from opportunities import forecasts
from opportunities.models import ExchangeRate, Quota
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db
Q3 = dt.date(2026, 7, 1)


def deal(owner, stage_name, amount, close_date, *, currency="EUR", probability=None):
    fields = {} if probability is None else {"probability": probability}
    return OpportunityFactory(owner=owner, stage=stage(stage_name), amount=amount, currency=currency,
                              close_date=close_date, **fields)


@pytest.fixture
def company(db):
    """CEO → sales manager → two reps; a second manager's rep beside them. Opportunities private."""
    set_org_default("opportunities.opportunity", Access.PRIVATE)
    ExchangeRate.objects.create(currency="USD", rate=Decimal(2), valid_from=dt.date(2020, 1, 1))  # 1 € = 2 $
    profile = ProfileFactory()
    ceo_role = RoleFactory(name="CEO")
    manager_role = RoleFactory(name="Sales manager", parent=ceo_role)
    rep_role = RoleFactory(name="Sales rep", parent=manager_role)
    east_role = RoleFactory(name="East rep", parent=ceo_role)
    people = {
        "ceo": UserFactory(role=ceo_role, profile=profile, first_name="Cora", last_name="Ceo"),
        "manager": UserFactory(role=manager_role, profile=profile, first_name="Max", last_name="Manager"),
        "rep1": UserFactory(role=rep_role, profile=profile, first_name="Rita", last_name="One"),
        "rep2": UserFactory(role=rep_role, profile=profile, first_name="Rolf", last_name="Two"),
        "east": UserFactory(role=east_role, profile=profile, first_name="Eve", last_name="East"),
    }
    rep1, rep2, east = people["rep1"], people["rep2"], people["east"]
    deal(rep1, "Closed won", 1000, dt.date(2026, 7, 15), currency="USD")  # 500 €
    deal(rep1, "Proposal / price quote", 2000, dt.date(2026, 8, 1), probability=50)  # commit, weighted 1,000
    deal(rep1, "Value proposition", 1000, dt.date(2026, 8, 2), probability=40)  # best case, weighted 400
    deal(rep1, "Prospecting", 500, dt.date(2026, 9, 3), probability=10)  # pipeline, weighted 50
    deal(rep1, "Closed lost", 9999, dt.date(2026, 7, 20))  # omitted: nowhere
    deal(rep1, "Proposal / price quote", 7777, dt.date(2026, 10, 1))  # next quarter
    deal(rep2, "Closed won", 1500, dt.date(2026, 9, 30))  # the last day of the quarter
    deal(rep2, "Negotiation / review", 6000, dt.date(2026, 7, 1), currency="USD", probability=80)  # 3,000 €, w 2,400
    deal(east, "Closed won", 10000, dt.date(2026, 8, 1))
    Quota.objects.create(user=rep1, period_kind="quarter", period_start=Q3, amount=2000)
    Quota.objects.create(user=rep2, period_kind="quarter", period_start=Q3, amount=3000)
    Quota.objects.create(user=east, period_kind="quarter", period_start=Q3, amount=8000)
    Quota.objects.create(user=rep1, period_kind="month", period_start=Q3, amount=400)
    return people


def figures(row):
    f = row.figures
    return (f.won, f.commit, f.best_case, f.pipeline, f.weighted, f.quota, f.attainment)


def rows_by_label(result):
    return {(row.kind, row.label): row for row in result.rows}


def test_manager_sees_subordinates_rows_and_their_subtotal(company):
    result = forecasts.forecast(company["manager"], "quarter", Q3)
    rows = rows_by_label(result)

    assert [(row.kind, row.label, row.depth) for row in result.rows] == [
        ("role", "Sales manager", 0), ("user", "Max Manager", 1),
        ("role", "Sales rep", 1), ("user", "Rita One", 2), ("user", "Rolf Two", 2)]
    assert figures(rows[("user", "Rita One")]) == (
        Decimal("500.00"), Decimal("2000.00"), Decimal("1000.00"), Decimal("500.00"), Decimal("1450.00"),
        Decimal("2000.00"), Decimal("25.0"))
    assert figures(rows[("user", "Rolf Two")]) == (
        Decimal("1500.00"), Decimal("3000.00"), Decimal(0), Decimal(0), Decimal("2400.00"), Decimal("3000.00"),
        Decimal("50.0"))
    # The subtotal is the sum of the subordinates: 500 + 1,500 won; quota 5,000; attainment 2,000 / 5,000.
    expected = (Decimal("2000.00"), Decimal("5000.00"), Decimal("1000.00"), Decimal("500.00"), Decimal("3850.00"),
                Decimal("5000.00"), Decimal("40.0"))
    assert figures(rows[("role", "Sales manager")]) == expected
    assert figures(rows[("role", "Sales rep")]) == expected
    assert (result.total.won, result.total.commit, result.total.weighted, result.total.attainment) == (
        Decimal("2000.00"), Decimal("5000.00"), Decimal("3850.00"), Decimal("40.0"))
    assert (rows[("user", "Rita One")].figures.won_n, rows[("user", "Rita One")].figures.commit_n) == (1, 1)


def test_ceo_sees_the_whole_company(company):
    result = forecasts.forecast(company["ceo"], "quarter", Q3)
    rows = rows_by_label(result)

    assert rows[("role", "CEO")].figures.won == Decimal("12000.00")
    assert rows[("role", "East rep")].figures.won == Decimal("10000.00")
    assert rows[("role", "Sales manager")].figures.won == Decimal("2000.00")
    assert result.total.won == Decimal("12000.00") and result.total.quota == Decimal("13000.00")
    assert result.total.attainment == Decimal("92.3")  # 12,000 / 13,000


def test_a_rep_sees_only_their_own_numbers(company):
    result = forecasts.forecast(company["rep1"], "quarter", Q3)

    assert [(row.kind, row.label) for row in result.rows] == [("role", "Sales rep"), ("user", "Rita One")]
    assert (result.total.won, result.total.commit, result.total.weighted) == (
        Decimal("500.00"), Decimal("2000.00"), Decimal("1450.00"))
    # The role's subtotal covers only what the rep may see, not the other rep's deals.
    assert rows_by_label(result)[("role", "Sales rep")].figures.won == Decimal("500.00")


def test_monthly_forecast_uses_monthly_quotas(company):
    result = forecasts.forecast(company["rep1"], "month", Q3)
    rita = rows_by_label(result)[("user", "Rita One")]

    assert (rita.figures.won, rita.figures.commit, rita.figures.quota, rita.figures.attainment) == (
        Decimal("500.00"), Decimal(0), Decimal("400.00"), Decimal("125.0"))
    assert forecasts.forecast(company["manager"], "month", Q3).total.commit == Decimal("3000.00")  # rep2, 1 July


def test_deals_shared_outside_the_hierarchy_are_counted_on_their_own_row(company):
    from crm.access.models import SharingRule

    manager, east = company["manager"], company["east"]
    from crm.access.visibility import clear_caches

    SharingRule.objects.create(name="East to sales", record_type="opportunities.opportunity",
                               kind=SharingRule.Kind.OWNER, source_role=east.role,
                               target_kind=SharingRule.Target.ROLE, target_role=manager.role,
                               access_level=SharingRule.Level.READ)
    clear_caches()

    result = forecasts.forecast(manager, "quarter", Q3)

    others = [row for row in result.rows if row.kind == "others"]
    assert len(others) == 1 and others[0].figures.won == Decimal("10000.00")
    assert result.total.won == Decimal("12000.00")
    assert [d.owner_id for d in forecasts.drilldown(manager, "quarter", Q3, category="won", others=True)] == [east.pk]


def test_a_deactivated_subordinate_keeps_their_row_while_they_own_deals(company):
    rolf = company["rep2"]
    rolf.is_active = False
    rolf.save()

    result = forecasts.forecast(company["manager"], "quarter", Q3)

    assert rows_by_label(result)[("user", "Rolf Two")].figures.won == Decimal("1500.00")
    assert not [row for row in result.rows if row.kind == "others"]


def test_period_arithmetic():
    assert forecasts.period_start(dt.date(2026, 11, 17), "quarter") == dt.date(2026, 10, 1)
    assert forecasts.shift(dt.date(2026, 10, 1), "quarter", 1) == dt.date(2027, 1, 1)
    assert forecasts.shift(dt.date(2026, 1, 1), "month", -1) == dt.date(2025, 12, 1)
    assert forecasts.period_label(dt.date(2026, 10, 1), "quarter") == "Q4 2026"
    assert forecasts.parse_period("year", "nonsense", today=dt.date(2026, 5, 5)) == ("quarter", dt.date(2026, 4, 1))


# --- pages -------------------------------------------------------------------------------------------------------

def test_forecast_page_links_each_number_to_its_deals(client, company, django_assert_max_num_queries):
    manager = company["manager"]
    client.force_login(manager)
    url = reverse("opportunities:forecast") + "?kind=quarter&start=2026-07-01"
    client.get(url)

    with django_assert_max_num_queries(10):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200 and "Q3 2026" in page
    assert "€2,000.00" in page and "40.0%" in page and "Eve East" not in page
    rita = company["rep1"]
    link = f"{reverse('opportunities:forecast_deals')}?kind=quarter&amp;start=2026-07-01&amp;category=commit&amp;owner={rita.pk}"
    assert link in page

    # More reps and deals: no more queries.
    for i in range(6):
        person = UserFactory(role=rita.role, profile=rita.profile)
        deal(person, "Closed won", 100, dt.date(2026, 8, 1))
        Quota.objects.create(user=person, period_kind="quarter", period_start=Q3, amount=100)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_drilldown_lists_the_deals_behind_a_number(client, company, django_assert_max_num_queries):
    manager, rita = company["manager"], company["rep1"]
    client.force_login(manager)
    url = (reverse("opportunities:forecast_deals") +
           f"?kind=quarter&start=2026-07-01&category=commit&owner={rita.pk}")
    client.get(url)
    with django_assert_max_num_queries(10):
        response = client.get(url)
    deals = list(response.context["page"])
    assert [(d.amount, d.close_date) for d in deals] == [(Decimal("2000.00"), dt.date(2026, 8, 1))]
    assert "close_date_after=2026-07-01" in response.context["list_url"]
    assert "close_date_before=2026-09-30" in response.context["list_url"]

    role_url = (reverse("opportunities:forecast_deals") +
                f"?kind=quarter&start=2026-07-01&category=won&role={rita.role_id}")
    assert sorted(d.amount_corporate for d in client.get(role_url).context["page"]) == [Decimal("500.00"),
                                                                                         Decimal("1500.00")]
    # A rep asking for the manager's subtree (not theirs to see) gets nothing; their own role, their deals.
    client.force_login(rita)
    theirs = client.get(reverse("opportunities:forecast_deals") +
                        f"?kind=quarter&start=2026-07-01&category=won&role={manager.role_id}").context["page"]
    assert list(theirs) == []
    mine = client.get(reverse("opportunities:forecast_deals") +
                      f"?kind=quarter&start=2026-07-01&category=won&role={rita.role_id}").context["page"]
    assert [d.amount_corporate for d in mine] == [Decimal("500.00")]


def test_a_role_subtotal_drills_down_to_the_same_deals_as_it_adds_up(company):
    """Peers of the reader shared through a team count on the "others" row, in neither the reader's row nor
    their role's subtotal, and the drill-downs agree."""
    from crm.access.models import Team
    from crm.access.visibility import clear_caches

    rita, rolf = company["rep1"], company["rep2"]
    team = Team.objects.create(name="Pair", record_access=Team.Access.READ)
    team.members.add(rita, rolf)
    clear_caches()

    result = forecasts.forecast(rita, "quarter", Q3)
    rows = rows_by_label(result)
    role_row = rows[("role", "Sales rep")]

    assert role_row.figures.won == Decimal("500.00")
    assert [r.figures.won for r in result.rows if r.kind == "others"] == [Decimal("1500.00")]
    assert [d.amount_corporate for d in forecasts.drilldown(rita, "quarter", Q3, category="won",
                                                            role_id=role_row.role_id)] == [Decimal("500.00")]
    assert [d.amount_corporate for d in forecasts.drilldown(rita, "quarter", Q3, category="won",
                                                            others=True)] == [Decimal("1500.00")]


def test_forecast_page_shows_counts_when_amount_is_hidden(client, company):
    from crm.access.models import FieldAccess, FieldPermission
    from crm.access.visibility import clear_caches

    rita = company["rep1"]
    FieldPermission.objects.create(profile=rita.profile, record_type="opportunities.opportunity",
                                   field_name="amount", access=FieldAccess.HIDDEN)
    clear_caches()
    client.force_login(rita)
    page = client.get(reverse("opportunities:forecast") + "?kind=quarter&start=2026-07-01").content.decode()
    assert "€" not in page and "Weighted pipeline</th>" not in page and "Amounts are hidden" in page


def test_quota_page_within_a_query_budget(client, company, django_assert_max_num_queries):
    manager, rita = company["manager"], company["rep1"]
    client.force_login(manager)
    url = reverse("opportunities:quotas") + "?kind=quarter&start=2026-07-01"
    client.get(url)
    for _ in range(8):
        UserFactory(role=rita.role, profile=rita.profile)
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert len(response.context["form"].rows()) == 10


def test_manager_sets_quotas_for_subordinates_only(client, company):
    manager, rita, rolf, east = company["manager"], company["rep1"], company["rep2"], company["east"]
    client.force_login(manager)
    url = reverse("opportunities:quotas") + "?kind=quarter&start=2026-10-01"

    response = client.get(url)
    assert response.status_code == 200
    assert sorted(u.pk for u, _ in response.context["form"].rows()) == sorted([rita.pk, rolf.pk])

    response = client.post(url, {f"quota_{rita.pk}": "1500", f"quota_{rolf.pk}": "", f"quota_{east.pk}": "99"})
    assert response.status_code == 302
    assert list(Quota.objects.filter(period_start=dt.date(2026, 10, 1)).values_list("user_id", "amount")) == [
        (rita.pk, Decimal("1500.00"))]
    # Emptying an amount removes the quota.
    client.post(reverse("opportunities:quotas") + "?kind=quarter&start=2026-07-01",
                {f"quota_{rita.pk}": "", f"quota_{rolf.pk}": "3000"})
    assert not Quota.objects.filter(user=rita, period_kind="quarter", period_start=Q3).exists()
    assert Quota.objects.get(user=rolf, period_kind="quarter", period_start=Q3).amount == 3000


def test_reps_cannot_set_quotas_and_admins_set_anyones(client, company):
    client.force_login(company["rep1"])
    assert client.get(reverse("opportunities:quotas")).status_code == 404
    assert forecasts.quotas_set(actor=company["rep1"], period_kind="quarter", period_start=Q3,
                                amounts={company["rep2"].pk: Decimal(1)}) == 0

    admin = AdminFactory()
    client.force_login(admin)
    response = client.get(reverse("opportunities:quotas") + "?kind=quarter&start=2026-07-01")
    assert company["east"].pk in [u.pk for u, _ in response.context["form"].rows()]


def test_quota_page_rejects_a_negative_amount(client, company):
    client.force_login(company["manager"])
    rita = company["rep1"]
    response = client.post(reverse("opportunities:quotas") + "?kind=quarter&start=2026-07-01",
                           {f"quota_{rita.pk}": "-5"})
    assert response.status_code == 200 and response.context["form"].errors
    assert Quota.objects.get(user=rita, period_kind="quarter", period_start=Q3).amount == 2000


def test_home_shows_this_quarters_forecast_for_the_readers_subtree(client, company):
    from django.utils import timezone

    manager, rita = company["manager"], company["rep1"]
    start = forecasts.period_start(timezone.localdate(), "quarter")
    deal(rita, "Closed won", 4321, start)
    Quota.objects.create(user=rita, period_kind="quarter", period_start=start, amount=8642)
    client.force_login(manager)

    page = client.get(reverse("home")).content.decode()

    assert 'id="home-sales-dashboard"' in page and "€4,321.00" in page and "50.0%" in page
    client.force_login(company["east"])
    assert "€4,321.00" not in client.get(reverse("home")).content.decode()


def test_quota_amounts_are_read_as_the_users_language_writes_them(client, company):
    manager, rita, rolf = company["manager"], company["rep1"], company["rep2"]
    client.force_login(manager)
    url = reverse("opportunities:quotas") + "?kind=month&start=2026-11-01"
    client.post(url, {f"quota_{rita.pk}": "12 500,50", f"quota_{rolf.pk}": "۱۲٬۵۰۰"})
    amounts = dict(Quota.objects.filter(period_start=dt.date(2026, 11, 1)).values_list("user_id", "amount"))
    assert amounts == {rita.pk: Decimal("12500.50"), rolf.pk: Decimal("12500")}
