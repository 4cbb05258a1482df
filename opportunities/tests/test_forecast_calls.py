"""The calls beside the stage-weighted forecast: a rep's forecast category override on a deal, a manager's
adjustment of a subordinate's forecast with its history, and how both roll up. The company is
test_forecasts.py's (CEO → sales manager → Rita and Rolf; Eve East beside them), its numbers worked out there;
the calls' numbers are worked out by hand below."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.urls import reverse

from crm.access.tests.factories import AdminFactory, UserFactory
from crm.core import locks
from opportunities import forecasts, services
from opportunities.models import ForecastAdjustment, ForecastCategory, Opportunity, Quota, SnapshotLine
from opportunities.tests.factories import stage
from opportunities.tests.test_forecasts import Q3, company, deal, rows_by_label  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
PERSON = "opportunities:forecast_person"
QS = "?kind=quarter&start=2026-07-01"


def prospecting_deal(owner) -> Opportunity:
    """Rita's 500 € deal in Prospecting (a pipeline stage, probability 10 %: weighted 50 €)."""
    return Opportunity.objects.get(owner=owner, stage=stage("Prospecting"))


def adjust(actor, subject, amount, note="Big customer signs early"):
    return forecasts.forecast_adjust(actor=actor, subject=subject, period_kind="quarter", period_start=Q3,
                                     amount=Decimal(amount), note=note)


def test_a_reps_override_moves_a_deal_into_their_commit_call_not_into_the_weighted_figure(company):
    rita, manager = company["rep1"], company["manager"]
    before = rows_by_label(forecasts.forecast(manager, "quarter", Q3))[("user", "Rita One")].figures
    # Rita: won 500; open commit 2,000, best case 1,000, pipeline 500; weighted 1,000 + 400 + 50.
    assert (before.rep_commit, before.rep_best_case, before.weighted, before.pipeline) == (
        Decimal("2500.00"), Decimal("3500.00"), Decimal("1450.00"), Decimal("500.00"))

    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                           category=ForecastCategory.COMMIT)

    result = forecasts.forecast(manager, "quarter", Q3)
    after = rows_by_label(result)[("user", "Rita One")].figures
    # The rep's call: 500 won + 2,000 + 500 now called commit; best case adds the 1,000.
    assert (after.rep_commit, after.rep_commit_n, after.rep_best_case) == (
        Decimal("3000.00"), 3, Decimal("4000.00"))
    # The stage-based figures and the weighted pipeline stay as the stages say.
    assert (after.commit, after.pipeline, after.weighted) == (Decimal("2000.00"), Decimal("500.00"),
                                                              Decimal("1450.00"))
    # Rolf calls nothing: his commit call is 1,500 won + 3,000 in negotiation.
    assert result.total.rep_commit == Decimal("7500.00")
    called = forecasts.drilldown(manager, "quarter", Q3, category="rep_commit", owner_id=rita.pk)
    assert sorted(d.amount_corporate for d in called) == [Decimal("500.00"), Decimal("500.00"), Decimal("2000.00")]

    # "Omitted" takes a deal out of the rep's calls; an empty override follows the stage again.
    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                           category=ForecastCategory.OMITTED)
    assert rows_by_label(forecasts.forecast(rita, "quarter", Q3))[("user", "Rita One")].figures.rep_commit == \
        Decimal("2500.00")
    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita), category="")
    assert prospecting_deal(rita).forecast_override is None


def test_the_override_is_a_recorded_edit_refused_on_closed_deals_and_for_closed_as_a_call(company):
    rita = company["rep1"]
    opportunity = services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                                         category=ForecastCategory.BEST_CASE)

    assert opportunity.history.first().forecast_override == "best_case"
    assert opportunity.history.first().history_user == rita
    assert opportunity.stage == stage("Prospecting")  # the stage did not move
    with pytest.raises(ValidationError):
        services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                               category=ForecastCategory.CLOSED)
    won = Opportunity.objects.get(owner=rita, stage=stage("Closed won"))
    with pytest.raises(ValidationError):
        services.opportunity_forecast_override(actor=rita, opportunity=won, category=ForecastCategory.COMMIT)


def test_an_approval_lock_refuses_the_override_like_any_edit(client, company):
    rita = company["rep1"]
    target = prospecting_deal(rita)

    def check(record, user):
        return "An approval is waiting on this deal." if getattr(record, "pk", None) == target.pk else None

    locks.register_lock(check)
    try:
        with pytest.raises(ValidationError, match="approval is waiting"):
            services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                                   category=ForecastCategory.COMMIT)
        client.force_login(rita)
        response = client.post(reverse("opportunities:forecast_call", args=[target.pk]),
                               {"forecast_override": "commit"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "An approval is waiting on this deal." in response.content.decode()
    finally:
        locks._checks.remove(check)
    assert prospecting_deal(rita).forecast_override is None


def test_the_call_is_set_from_its_select_by_whoever_may_edit_the_deal(client, company):
    rita, rolf = company["rep1"], company["rep2"]
    target = prospecting_deal(rita)
    url = reverse("opportunities:forecast_call", args=[target.pk])
    client.force_login(rita)

    page = client.get(url).content.decode()
    assert 'name="forecast_override"' in page and "As its stage: Pipeline" in page
    response = client.post(url, {"forecast_override": "commit"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert prospecting_deal(rita).forecast_override == "commit"
    # Without htmx, the form posts and goes back where it came from.
    response = client.post(url, {"forecast_override": "", "next": "/opportunities/forecasts/"})
    assert response.status_code == 302 and response["Location"] == "/opportunities/forecasts/"
    assert prospecting_deal(rita).forecast_override is None

    client.force_login(rolf)  # a peer: the deal is private to Rita
    assert client.get(url).status_code == 404
    assert client.post(url, {"forecast_override": "commit"}).status_code == 404
    won = Opportunity.objects.get(owner=rita, stage=stage("Closed won"))
    client.force_login(rita)
    assert client.post(reverse("opportunities:forecast_call", args=[won.pk]),
                       {"forecast_override": "commit"}).status_code == 404


def test_a_read_only_field_shows_the_call_without_a_select(client, company):
    from crm.access.models import FieldAccess, FieldPermission
    from crm.access.visibility import clear_caches

    rita = company["rep1"]
    FieldPermission.objects.create(profile=rita.profile, record_type="opportunities.opportunity",
                                   field_name="forecast_override", access=FieldAccess.READ_ONLY)
    clear_caches()
    client.force_login(rita)
    url = reverse("opportunities:forecast_call", args=[prospecting_deal(rita).pk])

    assert 'name="forecast_override"' not in client.get(url).content.decode()
    assert client.post(url, {"forecast_override": "commit"}).status_code == 404


def test_a_manager_adjusts_a_subordinate_and_the_original_stays_beside_it(company):
    rita, manager = company["rep1"], company["manager"]
    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                           category=ForecastCategory.COMMIT)  # Rita calls 3,000

    first = adjust(manager, rita, 2800, "The 500 € deal will slip")
    second = adjust(manager, rita, 3200, "Upsell on the won deal")

    result = forecasts.forecast(manager, "quarter", Q3)
    rows = rows_by_label(result)
    row = rows[("user", "Rita One")]
    assert row.adjustment == second and row.adjustment.history_n == 2 and row.adjustable
    f = row.figures
    assert (f.manager_call, f.rep_commit, f.weighted, f.adjusted_n) == (
        Decimal("3200.00"), Decimal("3000.00"), Decimal("1450.00"), 1)
    # The roll-up: Rita's adjusted 3,200 + Rolf's unadjusted commit call 4,500 (+ Max's own row, nothing).
    for label in ("Sales rep", "Sales manager"):
        assert (rows[("role", label)].figures.manager_call, rows[("role", label)].figures.adjusted_n) == (
            Decimal("7700.00"), 1)
    assert (result.total.manager_call, result.total.rep_commit) == (Decimal("7700.00"), Decimal("7500.00"))
    assert rows[("user", "Rolf Two")].figures.manager_call == Decimal("4500.00")

    history = forecasts.adjustment_history("quarter", Q3, rita)
    assert history == [second, first]
    # Each adjustment keeps the figure it replaced: the first the rep's call then, the second the first.
    assert [(a.amount, a.before, a.rep_call, a.note) for a in history] == [
        (Decimal("3200.00"), Decimal("2800.00"), Decimal("3000.00"), "Upsell on the won deal"),
        (Decimal("2800.00"), Decimal("3000.00"), Decimal("3000.00"), "The 500 € deal will slip")]
    # Another period is untouched.
    assert forecasts.forecast(manager, "month", Q3).total.adjusted_n == 0


def test_the_ceo_sees_the_managers_adjustment_and_can_make_a_newer_one(company):
    ceo, manager, rita = company["ceo"], company["manager"], company["rep1"]
    adjust(manager, rita, 2800)

    rows = rows_by_label(forecasts.forecast(ceo, "quarter", Q3))
    assert rows[("user", "Rita One")].figures.manager_call == Decimal("2800.00")
    # East (10,000 won) + Rita adjusted 2,800 + Rolf's 4,500 commit call.
    assert rows[("role", "CEO")].figures.manager_call == Decimal("17300.00")
    adjust(ceo, rita, 2000, "Too optimistic")
    assert rows_by_label(forecasts.forecast(manager, "quarter", Q3))[("user", "Rita One")].figures.manager_call == \
        Decimal("2000.00")


def test_the_subject_does_not_see_adjustments_of_their_own_forecast(client, company):
    rita, manager = company["rep1"], company["manager"]
    adjust(manager, rita, 2800, "Secret manager note")

    result = forecasts.forecast(rita, "quarter", Q3)
    assert not result.adjusts and result.total.manager_call == Decimal("2500.00")  # her own commit call
    client.force_login(rita)
    page = client.get(reverse("opportunities:forecast") + QS).content.decode()
    assert "Secret manager note" not in page and "Manager's call" not in page and "Rep's commit call" in page
    assert client.get(reverse(PERSON, args=[rita.pk]) + QS).status_code == 404


def test_only_someone_above_the_subject_or_an_admin_may_adjust(client, company):
    rita, rolf, manager, east = company["rep1"], company["rep2"], company["manager"], company["east"]
    data = {"amount": "1000", "note": "A reason"}

    client.force_login(rita)
    for subject in (rita, rolf):  # herself, a peer
        assert client.get(reverse(PERSON, args=[subject.pk]) + QS).status_code == 404
        assert client.post(reverse(PERSON, args=[subject.pk]) + QS, data).status_code == 404
    with pytest.raises(PermissionDenied):
        adjust(rita, rolf, 1000)
    client.force_login(manager)
    assert client.post(reverse(PERSON, args=[east.pk]) + QS, data).status_code == 404  # outside the subtree
    assert client.post(reverse(PERSON, args=[manager.pk]) + QS, data).status_code == 404  # themselves
    assert not ForecastAdjustment.objects.exists()

    response = client.post(reverse(PERSON, args=[rita.pk]) + QS, data)
    assert response.status_code == 302
    admin = AdminFactory()
    client.force_login(admin)
    assert client.post(reverse(PERSON, args=[east.pk]) + QS, data).status_code == 302
    assert list(ForecastAdjustment.objects.order_by("id").values_list("subject_id", "adjusted_by_id")) == [
        (rita.pk, manager.pk), (east.pk, admin.pk)]


def test_the_adjustment_page_asks_for_a_note_and_lists_the_history(client, company):
    rita, manager = company["rep1"], company["manager"]
    client.force_login(manager)
    url = reverse(PERSON, args=[rita.pk]) + QS

    response = client.post(url, {"amount": "2800", "note": "  "})
    assert response.status_code == 422 and not ForecastAdjustment.objects.exists()
    response = client.post(url, {"amount": "-1", "note": "Negative"})
    assert response.status_code == 422 and not ForecastAdjustment.objects.exists()
    client.post(url, {"amount": "2800", "note": "First call"})
    client.post(url, {"amount": "2900.50", "note": "Second call"})

    page = client.get(url).content.decode()
    assert "First call" in page and "Second call" in page
    assert "€2,900.50" in page and "€2,800.00" in page and "€2,500.00" in page  # the rep's call (before the first)
    forecast_page = client.get(reverse("opportunities:forecast") + QS).content.decode()
    assert "2 adjustments" in forecast_page and f"{reverse(PERSON, args=[rita.pk])}?kind=quarter" in forecast_page
    assert "€2,900.50" in forecast_page


def test_forecast_and_drilldown_keep_their_query_budgets_with_calls(client, company, django_assert_max_num_queries):
    rita, manager = company["rep1"], company["manager"]
    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                           category=ForecastCategory.COMMIT)
    adjust(manager, rita, 2800)
    client.force_login(manager)
    url = reverse("opportunities:forecast") + QS
    drill = reverse("opportunities:forecast_deals") + QS + "&category=open"
    client.get(url), client.get(drill)

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few_deals:
        assert client.get(drill).status_code == 200
    for i in range(6):  # more reps, each with deals, a quota and two adjustments
        person = UserFactory(role=rita.role, profile=rita.profile)
        deal(person, "Prospecting", 100, dt.date(2026, 8, 1))
        Quota.objects.create(user=person, period_kind="quarter", period_start=Q3, amount=100)
        adjust(manager, person, 50 + i)
        adjust(manager, person, 60 + i)
    client.get(url), client.get(drill)  # the visibility caches learn the new people once
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few)
    assert response.context["forecast"].total.adjusted_n == 7
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as many_deals:
        response = client.get(drill)
    assert len(many_deals) == len(few_deals)
    assert response.content.decode().count('name="forecast_override"') == 10  # every open deal the manager sees


def test_snapshots_keep_the_effective_category(company):
    rita = company["rep1"]
    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                           category=ForecastCategory.COMMIT)
    won = Opportunity.objects.get(owner=rita, stage=stage("Closed won"))
    Opportunity.objects.filter(pk=won.pk).update(forecast_override="best_case")  # left from when it was open

    snapshot = forecasts.snapshot_take(week=dt.date(2026, 7, 6))

    lines = {line.opportunity_id: line.forecast_category for line in SnapshotLine.objects.filter(snapshot=snapshot)}
    assert lines[prospecting_deal(rita).pk] == "commit"
    assert lines[won.pk] == "closed"  # a won deal counts by its outcome
    assert lines[Opportunity.objects.get(owner=rita, stage=stage("Value proposition")).pk] == "best_case"


def test_the_list_filters_and_shows_the_call(client, company):
    from conftest import row_names

    rita = company["rep1"]
    services.opportunity_forecast_override(actor=rita, opportunity=prospecting_deal(rita),
                                           category=ForecastCategory.COMMIT)
    client.force_login(rita)

    response = client.get(reverse("opportunities:list") + "?forecast_override=commit&cols=name,forecast_override")

    assert row_names(response) == [prospecting_deal(rita).name]
    assert "Forecast category override" in response.content.decode()
    assert len(row_names(client.get(reverse("opportunities:list") + "?forecast_override=best_case"))) == 0
