"""Opportunity pages: visibility, key facts, stage changes, search, sorting, field-level security, query budgets."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AccountFactory, ContactFactory
from conftest import row_names
from crm.access.models import FieldAccess, FieldPermission, ObjectPermission
from crm.access.tests.factories import UserFactory
from crm.customization.tests.factories import CustomFieldFactory
from leads.tests.factories import LeadFactory
from opportunities.models import StageChange
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db

def test_list_shows_only_visible_opportunities(client, reps):
    rep, other, manager = reps
    OpportunityFactory(owner=rep, name="Mine")
    OpportunityFactory(owner=other, name="Theirs")

    client.force_login(rep)
    response = client.get(reverse("opportunities:list"))
    assert response.status_code == 200 and row_names(response) == ["Mine"]
    assert "Theirs" not in response.content.decode()

    client.force_login(manager)
    assert sorted(row_names(client.get(reverse("opportunities:list")))) == ["Mine", "Theirs"]


def test_detail_is_404_for_another_rep(client, reps):
    rep, other, manager = reps
    opportunity = OpportunityFactory(owner=rep)

    client.force_login(other)
    assert client.get(reverse("opportunities:detail", args=[opportunity.pk])).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("opportunities:detail", args=[opportunity.pk])).status_code == 200


def test_pages_need_the_view_permission(client, reps):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    ObjectPermission.objects.filter(profile=rep.profile, record_type="opportunities.opportunity").update(can_view=False)
    client.force_login(rep)

    assert client.get(reverse("opportunities:list")).status_code == 404
    assert client.get(reverse("opportunities:detail", args=[opportunity.pk])).status_code == 404


def test_detail_shows_account_contact_stage_amount_close_date_and_stage_changes(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel")
    contact = ContactFactory(owner=rep, account=account, first_name="Anna", last_name="Virtanen")
    negotiation = stage("Negotiation / review")
    opportunity = OpportunityFactory(owner=rep, name="Steel renewal", account=account, contact=contact,
                                     stage=negotiation, amount=125000, currency="EUR",
                                     close_date=datetime.date(2026, 6, 30))
    StageChange.objects.create(opportunity=opportunity, from_stage=stage("Prospecting"),
                               to_stage=stage("Qualification"), amount=100000, probability=20, actor=rep)
    StageChange.objects.create(opportunity=opportunity, from_stage=stage("Qualification"), to_stage=negotiation,
                               amount=125000, probability=85, actor=rep)
    client.force_login(rep)

    response = client.get(reverse("opportunities:detail", args=[opportunity.pk]))
    page = response.content.decode()

    assert response.status_code == 200
    assert f'<a href="{reverse("accounts:detail", args=[account.pk])}">Nordic Steel</a>' in page
    assert f'<a href="{reverse("contacts:detail", args=[contact.pk])}">Anna Virtanen</a>' in page
    assert "Negotiation / review" in page and "€125,000.00" in page and "2026" in page
    assert [(c.from_stage.name, c.to_stage.name) for c in response.context["stage_changes"]] == [
        ("Qualification", "Negotiation / review"), ("Prospecting", "Qualification")]
    assert 'id="tab-activity"' in page and 'id="tab-history"' in page and 'aria-current="step"' in page


def test_detail_does_not_link_an_account_the_reader_cannot_open(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=other, name="Not Yours Oy")
    opportunity = OpportunityFactory(owner=rep, account=account)
    client.force_login(rep)

    page = client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()

    assert reverse("accounts:detail", args=[account.pk]) not in page


def test_detail_links_the_lead_it_was_converted_from(client, reps):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    lead = LeadFactory(owner=rep, first_name="Mikko", last_name="Laine", converted_opportunity=opportunity)
    client.force_login(rep)

    page = client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()

    assert reverse("leads:detail", args=[lead.pk]) in page and "Converted from lead Mikko Laine" in page


def test_hidden_amount_is_left_out_everywhere(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity", field_name="amount",
                                   access=FieldAccess.HIDDEN)
    opportunity = OpportunityFactory(owner=rep, amount=987654)
    StageChange.objects.create(opportunity=opportunity, to_stage=opportunity.stage, amount=987654, actor=rep)
    client.force_login(rep)

    listing = client.get(reverse("opportunities:list"))
    assert "amount" not in [h.name for h in listing.context["headers"]]
    assert "987" not in listing.content.decode()
    assert "987" not in client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()


def test_search_matches_name_and_account_name_and_list_filters_by_account(client, reps):
    rep, _, _ = reps
    steel = AccountFactory(owner=rep, name="Nordic Steel")
    OpportunityFactory(owner=rep, name="Renewal 2026", account=steel)
    OpportunityFactory(owner=rep, name="Steel upsell")
    OpportunityFactory(owner=rep, name="Something else")
    client.force_login(rep)

    assert sorted(row_names(client.get(reverse("opportunities:list"), {"q": "steel"}))) == ["Renewal 2026", "Steel upsell"]
    assert row_names(client.get(reverse("opportunities:list"), {"q": "nordic renewal"})) == ["Renewal 2026"]
    assert row_names(client.get(reverse("opportunities:list"), {"account": steel.pk})) == ["Renewal 2026"]


def test_sorting_by_amount_both_ways_with_empty_amounts_last(client, reps):
    rep, _, _ = reps
    OpportunityFactory(owner=rep, name="Small", amount=10)
    OpportunityFactory(owner=rep, name="None", amount=None)
    OpportunityFactory(owner=rep, name="Big", amount=1000)
    client.force_login(rep)

    assert row_names(client.get(reverse("opportunities:list"), {"sort": "amount"})) == ["Small", "Big", "None"]
    assert row_names(client.get(reverse("opportunities:list"), {"sort": "-amount"})) == ["Big", "Small", "None"]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _populate(rep, n, opportunity):
    for i in range(n):
        account = AccountFactory(owner=rep)
        OpportunityFactory(owner=rep, account=account, contact=ContactFactory(owner=rep, account=account),
                           custom={"region": f"R{i}"})
        StageChange.objects.create(opportunity=opportunity, from_stage=stage("Prospecting"),
                                   to_stage=stage("Qualification"), actor=UserFactory())


# Detail pages list related records of several types: one small query each for the owners visibility
# reaches (then memoized for the request), on top of the page's own.
# The list's 12: the session and access rows (5), the visible owners, the page, its accounts, stages and owners,
# the saved views, the users for bulk assignment, the bell; the filter panel (its pipelines, stages and teams)
# is kept written per process. The detail page's 22: whether the reader may edit the deal is asked once.
@pytest.mark.parametrize(("url_name", "budget"), [("opportunities:list", 12), ("opportunities:detail", 22)])
def test_query_budget_does_not_grow_with_rows(client, reps, url_name, budget, django_assert_max_num_queries):
    rep, _, _ = reps
    CustomFieldFactory(record_type="opportunities.opportunity", name="region", label="Region", show_in_list=True)
    opportunity = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep), contact=ContactFactory(owner=rep))
    _populate(rep, 3, opportunity)
    url = reverse(url_name, args=[] if url_name.endswith("list") else [opportunity.pk])
    client.force_login(rep)
    client.get(url)  # warm per-process caches

    with django_assert_max_num_queries(budget):
        small = _count_queries(client, url)
    _populate(rep, 27, opportunity)
    client.get(url)  # the new users changed the user directory: warm it again
    with django_assert_max_num_queries(budget):
        large = _count_queries(client, url)

    assert large == small


# --- the sales fields on the list, its views and exports; the tabs ------------------------------------------

def test_list_has_the_tabs_the_new_button_and_the_sales_columns(client, reps):
    rep, _, _ = reps
    from decimal import Decimal

    from opportunities.models import ExchangeRate

    ExchangeRate.objects.create(currency="USD", rate=Decimal("2"), valid_from=datetime.date(2020, 1, 1))
    OpportunityFactory(owner=rep, name="Dollar deal", amount=1000, currency="USD", probability=50,
                       close_date=datetime.date(2026, 5, 1), next_step="Call the CFO", opportunity_type="upsell")
    client.force_login(rep)

    page = client.get(reverse("opportunities:list"),
                      {"cols": "name,amount_corporate,expected_revenue,opportunity_type,next_step"})

    html = page.content.decode()
    assert f'href="{reverse("opportunities:board")}"' in html and 'data-tab="list"' in html
    assert f'href="{reverse("opportunities:create")}"' in html
    assert [h.name for h in page.context["headers"]][:5] == ["name", "amount_corporate", "expected_revenue",
                                                            "opportunity_type", "next_step"]
    assert "500" in html and "250" in html and "Upsell" in html and "Call the CFO" in html


def test_won_this_quarter_and_lost_views(client, reps):
    from django.utils import timezone

    rep, _, _ = reps
    today = timezone.localdate()
    OpportunityFactory(owner=rep, name="Won now", stage=stage("Closed won"), close_date=today)
    OpportunityFactory(owner=rep, name="Won long ago", stage=stage("Closed won"),
                       close_date=today - datetime.timedelta(days=400))
    OpportunityFactory(owner=rep, name="Lost one", stage=stage("Closed lost"), close_date=today)
    OpportunityFactory(owner=rep, name="Open one", close_date=today)
    client.force_login(rep)

    list_page = client.get(reverse("opportunities:list")).content.decode()
    assert 'data-view="won-quarter"' in list_page and 'data-view="lost"' in list_page
    assert row_names(client.get(reverse("opportunities:list") + "?won=1&closing=quarter")) == ["Won now"]
    assert row_names(client.get(reverse("opportunities:list") + "?lost=1")) == ["Lost one"]


def test_export_has_the_sales_fields(client, reps):
    import csv
    import io

    from crm.customization.models import PicklistValue
    from opportunities.models import LOSS_REASON_PICKLIST

    rep, _, _ = reps
    reason = PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).first()
    OpportunityFactory(owner=rep, name="Lost deal", stage=stage("Closed lost"), probability=0, amount=700,
                       loss_reason=reason, competitors="Northwind", next_step="=HYPERLINK(1)")
    client.force_login(rep)

    content = b"".join(client.get(reverse("opportunities:list"), {"export": "csv"}).streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))

    record = dict(zip(rows[0], rows[1]))
    for label in ("Expected revenue", "Type", "Next step", "Competitors", "Loss reason"):
        assert any(h.lower() == label.lower() for h in rows[0]), label
    values = list(record.values())
    assert "Northwind" in values and str(reason) in values
    assert "'=HYPERLINK(1)" in values  # the shared writer's formula guard


def test_hidden_amount_hides_the_corporate_amounts_and_board_totals(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity", field_name="amount",
                                   access=FieldAccess.HIDDEN)
    opportunity = OpportunityFactory(owner=rep, amount=987654)
    client.force_login(rep)

    detail = client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()
    board = client.get(reverse("opportunities:board")).content.decode()

    assert "987" not in detail and "987" not in board
    assert "data-column-total" not in board and 'name="amount_min"' not in board


def test_list_filters_kept_written_show_a_new_stage_a_renamed_pipeline_and_a_new_team_at_once(client, reps):
    """The filter panel is kept written per process (its pipelines, stages and teams under a version token that
    every save or delete of one changes): a change shows on the next request."""
    from crm.access.tests.factories import TeamFactory
    from opportunities.models import Stage
    from opportunities.tests.factories import default_pipeline

    rep, _, _ = reps
    client.force_login(rep)
    url = reverse("opportunities:list")
    client.get(url)
    first = client.get(url).content.decode()  # written from the kept panel
    assert "Due diligence" not in first and "Enterprise sales" not in first and "Nordics" not in first

    pipeline = default_pipeline()
    Stage.objects.create(pipeline=pipeline, name="Due diligence", order=99)
    pipeline.name, pipeline.name_translations = "Enterprise sales", {}
    pipeline.save()
    team = TeamFactory(name="Nordics")
    page = client.get(url).content.decode()
    assert "Due diligence" in page and "Enterprise sales" in page and "Nordics" in page

    team.delete()
    Stage.objects.filter(name="Due diligence").delete()
    page = client.get(url).content.decode()
    assert "Due diligence" not in page and "Nordics" not in page
