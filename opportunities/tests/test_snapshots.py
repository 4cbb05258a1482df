"""Weekly forecast snapshots (idempotent per ISO week, set-wise, safe with two workers) and "what moved"
between two snapshots or a snapshot and now, deal by deal, within visibility."""
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from crm.access.tests.factories import AdminFactory
from opportunities import forecasts
from opportunities.models import ForecastSnapshot, Opportunity, SnapshotLine
from opportunities.tasks_forecasts import forecast_snapshot_task
from opportunities.tests.factories import OpportunityFactory, stage

LAST_WEEK = dt.date(2026, 11, 23)  # a Monday


def deal(owner, name, stage_name="Prospecting", amount=1000, close_date=dt.date(2026, 12, 15), **fields):
    return OpportunityFactory(owner=owner, name=name, stage=stage(stage_name), amount=amount, close_date=close_date,
                              **fields)


@pytest.mark.django_db
def test_the_task_run_twice_takes_one_snapshot(reps):
    rep, other, _ = reps
    deal(rep, "Open one")
    deal(other, "Open two")
    deal(rep, "Won lately", "Closed won", closed_at=timezone.now() - dt.timedelta(days=30))
    deal(rep, "Lost long ago", "Closed lost", closed_at=timezone.now() - dt.timedelta(days=800))

    first = forecast_snapshot_task.apply().get()
    second = forecast_snapshot_task.apply().get()

    assert first is not None and second is None
    snapshot = ForecastSnapshot.objects.get()
    assert snapshot.week == forecasts.week_of(timezone.localdate()) and snapshot.week.weekday() == 0
    assert sorted(snapshot.lines.values_list("name", flat=True)) == ["Open one", "Open two", "Won lately"]


@pytest.mark.django_db
def test_a_snapshot_copies_the_lines_in_a_constant_number_of_queries(reps):
    rep, _, _ = reps
    for i in range(3):
        deal(rep, f"Deal {i}")
    with CaptureQueriesContext(connection) as few:
        forecasts.snapshot_take(week=LAST_WEEK)
    for i in range(30):
        deal(rep, f"More {i}")
    with CaptureQueriesContext(connection) as many:
        forecasts.snapshot_take(week=LAST_WEEK + dt.timedelta(days=7))
    assert len(many) == len(few)
    line = SnapshotLine.objects.get(snapshot__week=LAST_WEEK, name="Deal 0")
    assert (line.outcome, line.forecast_category, line.amount_corporate, line.probability, line.owner_id) == (
        "open", "pipeline", Decimal("1000.00"), 10, rep.pk)


@pytest.mark.django_db
def test_take_now_retakes_this_weeks_snapshot(reps):
    rep, _, _ = reps
    opportunity = deal(rep, "Growing")
    forecasts.snapshot_take()
    Opportunity.objects.filter(pk=opportunity.pk).update(amount=5000)

    assert forecasts.snapshot_take() is None  # beat: already taken
    retaken = forecasts.snapshot_take(replace=True)

    assert ForecastSnapshot.objects.count() == 1
    assert list(retaken.lines.values_list("amount_corporate", flat=True)) == [Decimal("5000.00")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_take_one_snapshot(reps):
    rep, _, _ = reps
    for i in range(5):
        deal(rep, f"Deal {i}")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(forecasts.snapshot_take(week=LAST_WEEK))
        except Exception as exc:  # noqa: BLE001  the test reports it below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert sorted(r is None for r in results) == [False, True]
    assert ForecastSnapshot.objects.count() == 1 and SnapshotLine.objects.count() == 5


# --- what moved --------------------------------------------------------------------------------------------------

@pytest.fixture
def week_of_changes(reps):
    """Last week's snapshot, then this week: one new deal, one won, one lost, one pushed into next month, one
    pulled into this month, one bigger, one smaller, one untouched; the other rep's deal pushed out too."""
    rep, other, manager = reps
    won = deal(rep, "Won", "Negotiation / review", 2000)
    lost = deal(rep, "Lost", "Qualification", 700)
    pushed = deal(rep, "Pushed", amount=300, close_date=dt.date(2026, 12, 20))
    pulled = deal(rep, "Pulled", amount=400, close_date=dt.date(2027, 1, 20))
    up = deal(rep, "Up", amount=1000)
    down = deal(rep, "Down", amount=1000)
    same_month = deal(rep, "Same month", amount=50, close_date=dt.date(2026, 12, 1))
    deal(rep, "Untouched", amount=999)
    theirs = deal(other, "Theirs", amount=800, close_date=dt.date(2026, 12, 20))
    before = forecasts.snapshot_take(week=LAST_WEEK)

    deal(rep, "Brand new", "Proposal / price quote", 1200)
    Opportunity.objects.filter(pk=won.pk).update(stage=stage("Closed won"), probability=100, amount=2500,
                                                 closed_at=timezone.now())
    Opportunity.objects.filter(pk=lost.pk).update(stage=stage("Closed lost"), probability=0, closed_at=timezone.now())
    Opportunity.objects.filter(pk=pushed.pk).update(close_date=dt.date(2027, 1, 5))
    Opportunity.objects.filter(pk=pulled.pk).update(close_date=dt.date(2026, 12, 31))
    Opportunity.objects.filter(pk=up.pk).update(amount=1600)
    Opportunity.objects.filter(pk=down.pk).update(amount=250)
    Opportunity.objects.filter(pk=same_month.pk).update(close_date=dt.date(2026, 12, 30))  # same month: no move
    Opportunity.objects.filter(pk=theirs.pk).update(close_date=dt.date(2027, 2, 1))
    return reps, before


def names(moved):
    return {key: [m.name for m in moves] for key, moves in moved.groups.items()}


@pytest.mark.django_db
def test_what_moved_since_last_week_deal_by_deal(week_of_changes):
    (rep, other, manager), before = week_of_changes

    with translation.override("en"):  # stage names are read in the active language
        moved = forecasts.what_moved(rep, before, None, kind="month")

    assert names(moved) == {"new": ["Brand new"], "won": ["Won"], "lost": ["Lost"], "pushed_out": ["Pushed"],
                            "pulled_in": ["Pulled"], "amount_up": ["Up", "Won"], "amount_down": ["Down"]}
    assert {key: (n, total) for key, _, n, total in moved.totals()} == {
        "new": (1, Decimal("1200.00")),
        "won": (1, Decimal("2500.00")),  # its amount now
        "lost": (1, Decimal("700.00")),  # its amount when it was still open
        "pushed_out": (1, Decimal("300.00")),
        "pulled_in": (1, Decimal("400.00")),
        "amount_up": (2, Decimal("1100.00")),  # +600 and +500
        "amount_down": (1, Decimal("-750.00")),
    }
    won = moved.groups["won"][0]
    assert (won.before_stage, won.after_stage) == ("Negotiation / review", "Closed won")


@pytest.mark.django_db
def test_what_moved_by_quarter_and_between_two_snapshots(week_of_changes):
    (rep, other, manager), before = week_of_changes
    after = forecasts.snapshot_take(week=LAST_WEEK + dt.timedelta(days=7))

    by_quarter = forecasts.what_moved(rep, before, after, kind="quarter")

    # December → January crosses a quarter too; nothing else changes quarter.
    assert names(by_quarter)["pushed_out"] == ["Pushed"] and names(by_quarter)["pulled_in"] == ["Pulled"]
    assert names(by_quarter) == names(forecasts.what_moved(rep, before, None, kind="quarter"))


@pytest.mark.django_db
def test_what_moved_respects_visibility(week_of_changes):
    (rep, other, manager), before = week_of_changes

    assert "Theirs" not in names(forecasts.what_moved(rep, before, None))["pushed_out"]
    assert names(forecasts.what_moved(manager, before, None))["pushed_out"] == ["Pushed", "Theirs"]
    assert names(forecasts.what_moved(other, before, None))["pushed_out"] == ["Theirs"]


@pytest.mark.django_db
def test_what_moved_page_within_a_query_budget(client, week_of_changes, django_assert_max_num_queries):
    (rep, other, manager), before = week_of_changes
    client.force_login(manager)
    url = reverse("opportunities:what_moved") + f"?from={before.pk}&to=now&kind=month"
    client.get(url)

    with django_assert_max_num_queries(10):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Brand new" in page and "Theirs" in page and "€750.00" in page

    for i in range(10):
        deal(other, f"Late {i}")
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_only_admins_take_a_snapshot_now(client, reps):
    rep, _, _ = reps
    deal(rep, "One")
    client.force_login(rep)
    assert client.post(reverse("opportunities:snapshot_take")).status_code == 404
    assert not ForecastSnapshot.objects.exists()
    assert "Take snapshot now" not in client.get(reverse("opportunities:what_moved")).content.decode()

    client.force_login(AdminFactory())
    assert client.get(reverse("opportunities:snapshot_take")).status_code == 405
    response = client.post(reverse("opportunities:snapshot_take"))
    assert response.status_code == 302 and ForecastSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_demo_seed_gives_quotas_and_two_snapshots_that_differ(reps):
    rep, other, manager = reps
    for i in range(8):
        deal(rep if i % 2 else other, f"Demo {i}", amount=1000 + i, close_date=timezone.localdate() + dt.timedelta(days=20))
    deal(rep, "Demo won", "Closed won", closed_at=timezone.now())

    forecasts.seed_demo({})
    forecasts.seed_demo({})  # a second run changes nothing

    this_quarter = forecasts.period_start(timezone.localdate(), "quarter")
    from opportunities.models import Quota

    assert Quota.objects.filter(user=rep, period_kind="quarter",
                                period_start__in=[this_quarter, forecasts.shift(this_quarter, "quarter", 1)]).count() == 2
    assert ForecastSnapshot.objects.count() == 2
    last_week = ForecastSnapshot.objects.order_by("week").first()
    totals = {key: n for key, _, n, _ in forecasts.what_moved(manager, last_week, None).totals()}
    assert totals["new"] and totals["won"] and totals["amount_up"] and totals["amount_down"]


@pytest.mark.django_db
def test_what_moved_without_amounts_for_a_profile_that_hides_them(client, week_of_changes):
    from crm.access.models import FieldAccess, FieldPermission
    from crm.access.visibility import clear_caches

    (rep, other, manager), before = week_of_changes
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity",
                                   field_name="amount", access=FieldAccess.HIDDEN)
    clear_caches()
    client.force_login(rep)

    response = client.get(reverse("opportunities:what_moved") + f"?from={before.pk}")
    page = response.content.decode()

    assert set(response.context["moved"].groups) == {"new", "won", "lost", "pushed_out", "pulled_in"}
    assert "€" not in page and "Amount up" not in page and "Pushed" in page


def test_the_weekly_snapshot_is_on_the_beat_schedule():
    from crm.core.schedule import entries

    entry = entries()["forecast-snapshot"]
    assert entry["task"] == "opportunities.tasks_forecasts.forecast_snapshot_task" and entry["schedule"] <= 3600
    from crm.celery import app

    assert "opportunities.tasks_forecasts.forecast_snapshot_task" in app.tasks
