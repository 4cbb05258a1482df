"""The kanban: one column per stage of the chosen pipeline whose count and total (in the corporate currency, at
the rates in force on the close dates) add up to its cards; moves checked again on the server (visibility, edit
rights, locks, the stage's required fields); filters; capped columns; a query budget that does not grow with
the cards."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from crm.access.models import ObjectPermission
from crm.access.tests.factories import TeamFactory
from crm.core import locks
from opportunities.models import ExchangeRate, Opportunity, Pipeline, Stage, StageChange
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def columns(response) -> dict:
    return {column.stage.name: column for column in response.context["columns"]}


def drawn(response) -> dict:
    """{stage id: (total, [card ids])} as the board fragment an htmx move answers with draws them."""
    import re

    html = response.content.decode()
    result = {}
    for part in html.split('<section class="board-column')[1:]:
        stage_id = int(re.search(r'data-column="(\d+)"', part).group(1))
        total = re.search(r'data-column-total="([\d.]+)"', part)
        result[stage_id] = (Decimal(total.group(1)) if total else None,
                            [int(i) for i in re.findall(r'data-card="(\d+)"', part)])
    return result


def ask_fields(response) -> list[str]:
    import re

    html = response.content.decode()
    if "data-stage-ask" not in html:
        return []
    form = html[html.index("data-stage-ask"):]
    form = form[:form.index("</form>")]
    return re.findall(r'name="ask-([a-z_]+)"', form)


@pytest.fixture
def lock_named():
    def check(record, user):
        return "An approval is waiting on this deal." if getattr(record, "name", "") == "Locked deal" else None

    locks.register_lock(check)
    yield
    locks._checks.remove(check)


def test_column_totals_are_in_the_corporate_currency_and_add_up_to_the_cards(client, reps):
    rep, other, manager = reps
    # 1 EUR = 1.25 USD until mid-2026, then 1.60; 1 EUR = 10 SEK throughout.
    ExchangeRate.objects.create(currency="USD", rate=Decimal("1.25"), valid_from=date(2020, 1, 1))
    ExchangeRate.objects.create(currency="USD", rate=Decimal("1.60"), valid_from=date(2026, 7, 1))
    ExchangeRate.objects.create(currency="SEK", rate=Decimal("10"), valid_from=date(2020, 1, 1))
    qualification = stage("Qualification")
    OpportunityFactory(owner=rep, stage=qualification, amount=1000, currency="EUR", close_date=date(2026, 3, 1))
    OpportunityFactory(owner=rep, stage=qualification, amount=500, currency="USD", close_date=date(2026, 3, 1))
    OpportunityFactory(owner=other, stage=qualification, amount=800, currency="USD", close_date=date(2026, 9, 1))
    OpportunityFactory(owner=other, stage=qualification, amount=2500, currency="SEK", close_date=date(2026, 9, 1))
    OpportunityFactory(owner=rep, stage=stage("Prospecting"), amount=300, currency="EUR", close_date=None)
    client.force_login(manager)

    response = client.get(reverse("opportunities:board"))

    assert response.status_code == 200
    board = columns(response)
    # by hand: 1000 + 500/1.25 + 800/1.60 + 2500/10 = 1000 + 400 + 500 + 250
    assert board["Qualification"].count == 4 and board["Qualification"].total == Decimal("2150.00")
    assert board["Prospecting"].total == Decimal("300.00")
    for column in response.context["columns"]:
        assert column.total == sum((card.amount_corporate for card in column.cards), Decimal(0))
        assert column.count == len(column.cards)
    page = response.content.decode()
    assert 'data-column-total="2150.00"' in page
    assert list(board) == [s.name for s in Stage.objects.filter(pipeline__is_default=True).order_by("order")]

    client.force_login(rep)  # a rep's board covers only what the rep sees
    assert columns(client.get(reverse("opportunities:board")))["Qualification"].total == Decimal("1400.00")


def test_cards_show_name_account_amount_close_date_owner_and_days_in_stage(client, reps):
    from datetime import timedelta

    from django.utils import timezone

    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel")
    deal = OpportunityFactory(owner=rep, name="Steel platform", account=account, amount=125000, currency="SEK",
                              close_date=date(2027, 3, 31))
    Opportunity.objects.filter(pk=deal.pk).update(stage_entered_at=timezone.now() - timedelta(days=9, hours=1))
    client.force_login(rep)

    page = client.get(reverse("opportunities:board")).content.decode()

    card = page[page.index(f'data-card="{deal.pk}"'):]
    card = card[:card.index("</li>")]
    assert "Steel platform" in card and "Nordic Steel" in card and "SEK" in card and "125" in card
    assert "2027" in card and str(rep) in card and "9 days in stage" in card


def test_pipeline_switcher_shows_the_other_pipeline(client, reps):
    rep, _, _ = reps
    renewals = Pipeline.objects.create(name="Renewals", order=1)
    up = Stage.objects.create(pipeline=renewals, name="Up for renewal", probability=50, order=0)
    Stage.objects.create(pipeline=renewals, name="Renewed", probability=100, outcome="won", order=1)
    OpportunityFactory(owner=rep, pipeline=renewals, stage=up, name="Renewal 2027")
    OpportunityFactory(owner=rep, name="New deal")
    client.force_login(rep)

    default = client.get(reverse("opportunities:board"))
    assert "New deal" in default.content.decode() and "Renewal 2027" not in default.content.decode()
    assert f'href="?pipeline={renewals.pk}"' in default.content.decode()

    switched = client.get(reverse("opportunities:board"), {"pipeline": renewals.pk})
    assert list(columns(switched)) == ["Up for renewal", "Renewed"]
    assert "Renewal 2027" in switched.content.decode() and "New deal" not in switched.content.decode()


def test_drop_moves_the_card_records_the_change_and_updates_the_totals(client, reps):
    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, amount=4000, currency="EUR")
    qualification = stage("Qualification")
    client.force_login(rep)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]), {"stage": qualification.pk},
                           headers=HTMX)

    assert response.status_code == 200
    board = drawn(response)
    assert board[qualification.pk] == (Decimal("4000.00"), [deal.pk])
    assert board[stage("Prospecting").pk] == (Decimal("0"), [])
    assert "moved to Qualification" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == qualification and deal.probability == 20
    change = StageChange.objects.get(opportunity=deal, to_stage=qualification)
    assert (change.from_stage, change.actor, change.amount, change.probability) == (
        stage("Prospecting"), rep, Decimal("4000.00"), 20)


def test_move_is_refused_without_the_edit_right_and_the_card_snaps_back(client, reps):
    rep, _, manager = reps
    deal = OpportunityFactory(owner=rep)
    ObjectPermission.objects.filter(profile=rep.profile, record_type="opportunities.opportunity").update(
        can_edit=False)
    client.force_login(rep)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]),
                           {"stage": stage("Qualification").pk}, headers=HTMX)

    assert response.status_code == 200
    assert "You may not change the stage" in response.content.decode()
    assert drawn(response)[stage("Prospecting").pk][1] == [deal.pk]  # back where it was
    assert drawn(response)[stage("Qualification").pk][1] == []
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")
    assert not StageChange.objects.filter(opportunity=deal).exists()


def test_move_of_a_deal_the_user_cannot_see_is_404(client, reps):
    rep, other, _ = reps
    deal = OpportunityFactory(owner=rep)
    client.force_login(other)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]),
                           {"stage": stage("Qualification").pk}, headers=HTMX)

    assert response.status_code == 404
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")


def test_move_of_a_locked_deal_is_refused_with_the_reason(client, reps, lock_named):
    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, name="Locked deal")
    client.force_login(rep)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]),
                           {"stage": stage("Qualification").pk}, headers=HTMX)

    assert "An approval is waiting on this deal." in response.content.decode()
    assert 'data-board-notice="danger"' in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")


def test_move_asks_for_the_missing_fields_then_moves_once_given(client, reps):
    rep, _, _ = reps
    negotiation = stage("Negotiation / review")
    negotiation.required_fields = ["next_step"]
    negotiation.save()
    deal = OpportunityFactory(owner=rep, next_step="")
    client.force_login(rep)
    url = reverse("opportunities:board_move", args=[deal.pk])

    asked = client.post(url, {"stage": negotiation.pk}, headers=HTMX)

    assert ask_fields(asked) == ["next_step"]
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")

    empty = client.post(url, {"stage": negotiation.pk, "answering": negotiation.pk, "ask-next_step": ""},
                        headers=HTMX)
    assert ask_fields(empty) == ["next_step"] and "is-invalid" in empty.content.decode()

    moved = client.post(url, {"stage": negotiation.pk, "answering": negotiation.pk,
                              "ask-next_step": "Agree the terms"}, headers=HTMX)
    assert ask_fields(moved) == [] and drawn(moved)[negotiation.pk][1] == [deal.pk]
    deal.refresh_from_db()
    assert (deal.stage, deal.next_step) == (negotiation, "Agree the terms")
    assert StageChange.objects.filter(opportunity=deal, to_stage=negotiation).count() == 1


def test_dropping_on_closed_lost_asks_for_the_loss_reason(client, reps):
    from crm.customization.models import PicklistValue
    from opportunities.models import LOSS_REASON_PICKLIST

    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep)
    lost = stage("Closed lost")
    reason = PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).first()
    client.force_login(rep)
    url = reverse("opportunities:board_move", args=[deal.pk])

    asked = client.post(url, {"stage": lost.pk}, headers=HTMX)
    assert ask_fields(asked) == ["loss_reason"]

    client.post(url, {"stage": lost.pk, "answering": lost.pk, "ask-loss_reason": reason.pk}, headers=HTMX)
    deal.refresh_from_db()
    assert (deal.stage, deal.loss_reason, deal.probability) == (lost, reason, 0)


def test_move_to_select_works_without_javascript(client, reps):
    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]),
                           {"stage": stage("Needs analysis").pk, "owner": rep.pk}, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("opportunities:board") + "?pipeline=")
    assert "owner=" in response.redirect_chain[-1][0]  # the filters are kept
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Needs analysis")
    assert "moved to Needs analysis" in response.content.decode()
    # "Move to…" left as it was: told, nothing moved
    response = client.post(reverse("opportunities:board_move", args=[deal.pk]), {"stage": ""}, headers=HTMX)
    assert "Choose the stage to move to." in response.content.decode()


def test_filters_by_owner_team_close_dates_and_amount(client, reps):
    rep, other, manager = reps
    team = TeamFactory(name="North")
    team.members.set([other])
    OpportunityFactory(owner=rep, name="Rep small", amount=100, close_date=date(2026, 1, 10))
    OpportunityFactory(owner=rep, name="Rep big", amount=9000, close_date=date(2026, 6, 10))
    OpportunityFactory(owner=other, name="Other mid", amount=5000, close_date=date(2026, 3, 10))
    client.force_login(manager)

    def names(**params):
        response = client.get(reverse("opportunities:board"), params)
        return sorted(card.name for column in response.context["columns"] for card in column.cards)

    assert names(owner=rep.pk) == ["Rep big", "Rep small"]
    assert names(team=team.pk) == ["Other mid"]
    assert names(close_from="2026-02-01", close_to="2026-05-31") == ["Other mid"]
    assert names(amount_min="1000", amount_max="6000") == ["Other mid"]
    total = columns(client.get(reverse("opportunities:board"), {"owner": rep.pk}))["Prospecting"].total
    assert total == Decimal("9100.00")  # the totals follow the filters


def test_a_full_column_shows_the_first_cards_and_links_to_the_rest(client, reps, monkeypatch):
    import opportunities.board

    rep, _, _ = reps
    monkeypatch.setattr(opportunities.board, "CARDS_PER_COLUMN", 3)
    for i in range(5):
        OpportunityFactory(owner=rep, amount=100, close_date=date(2026, 1, 1 + i), name=f"Deal {i}")
    client.force_login(rep)

    response = client.get(reverse("opportunities:board"))

    column = columns(response)["Prospecting"]
    assert [c.name for c in column.cards] == ["Deal 0", "Deal 1", "Deal 2"]  # soonest close date first
    assert column.count == 5 and column.more == 2 and column.total == Decimal("500.00")  # count and total cover all
    assert f'{reverse("opportunities:list")}?stage={stage("Prospecting").pk}' in response.content.decode()

    # with filters, the link opens the list on the same deals
    import re

    from conftest import row_names

    OpportunityFactory(owner=rep, amount=100, close_date=date(2025, 1, 1), name="Too early")
    team = TeamFactory(name="Nordics")
    team.members.set([rep])
    filtered = client.get(reverse("opportunities:board"), {"team": team.pk, "close_from": "2026-01-01",
                                                          "amount_min": "50"})
    assert columns(filtered)["Prospecting"].count == 5
    link = re.search(r'href="([^"]+)" data-more', filtered.content.decode()).group(1).replace("&amp;", "&")
    assert sorted(row_names(client.get(link))) == [f"Deal {i}" for i in range(5)]


def test_board_query_budget_does_not_grow_with_the_cards(client, reps, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rep, _, manager = reps
    stages = list(Stage.objects.filter(pipeline__is_default=True).order_by("order"))
    for i in range(2):
        OpportunityFactory(owner=rep, stage=stages[i % len(stages)], account=AccountFactory(owner=rep))
    client.force_login(manager)
    client.get(reverse("opportunities:board"))  # warm the per-process caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("opportunities:board"))
    for i in range(30):
        OpportunityFactory(owner=rep if i % 2 else manager, stage=stages[i % len(stages)],
                           account=AccountFactory(owner=rep))

    with django_assert_max_num_queries(len(stages) + 20):
        response = client.get(reverse("opportunities:board"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("opportunities:board"))

    assert sum(c.count for c in response.context["columns"]) == 32
    # one cards query per column that has cards: the rest is the same whatever the number of cards
    assert len(many) - len(few) <= len(stages) - 2


def test_a_required_custom_field_is_asked_for_too(client, reps):
    from crm.customization.tests.factories import CustomFieldFactory

    rep, _, _ = reps
    CustomFieldFactory(record_type="opportunities.opportunity", name="budget_code", label="Budget code")
    proposal = stage("Proposal / price quote")
    proposal.required_fields = ["custom.budget_code"]
    proposal.save()
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    url = reverse("opportunities:board_move", args=[deal.pk])

    asked = client.post(url, {"stage": proposal.pk}, headers=HTMX)
    assert ask_fields(asked) == ["cf_budget_code"] and "Budget code" in asked.content.decode()

    client.post(url, {"stage": proposal.pk, "answering": proposal.pk, "ask-cf_budget_code": "BX-7"}, headers=HTMX)
    deal.refresh_from_db()
    assert deal.stage == proposal and deal.custom["budget_code"] == "BX-7"


def test_a_required_field_the_user_may_not_write_refuses_the_move_with_the_reason(client, reps):
    from crm.access.models import FieldAccess, FieldPermission

    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity",
                                   field_name="next_step", access=FieldAccess.READ_ONLY)
    negotiation = stage("Negotiation / review")
    negotiation.required_fields = ["next_step"]
    negotiation.save()
    deal = OpportunityFactory(owner=rep, next_step="")
    client.force_login(rep)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]), {"stage": negotiation.pk},
                           headers=HTMX)

    assert "which you may not fill in" in response.content.decode() and ask_fields(response) == []
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")


def test_card_text_is_escaped(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name='<b onmouseover="x()">Acme</b>')
    OpportunityFactory(owner=rep, name="<img src=x onerror=alert(1)>", account=account)
    client.force_login(rep)

    page = client.get(reverse("opportunities:board")).content.decode()

    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<b onmouseover' not in page


def test_a_column_loads_more_cards_on_demand(client, reps, monkeypatch):
    import re

    import opportunities.board

    rep, _, _ = reps
    monkeypatch.setattr(opportunities.board, "CARDS_PER_COLUMN", 2)
    deals = [OpportunityFactory(owner=rep, amount=100, close_date=date(2026, 1, 1 + i), name=f"Deal {i}")
             for i in range(5)]
    client.force_login(rep)
    prospecting = stage("Prospecting")

    page = client.get(reverse("opportunities:board")).content.decode()
    url = re.search(r'hx-get="([^"]+part=more[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "offset=2" in url

    more = client.get(url, headers=HTMX).content.decode()
    assert f'hx-swap-oob="beforeend:#cards-{prospecting.pk}"' in more
    assert re.findall(r'data-card="(\d+)"', more) == [str(deals[2].pk), str(deals[3].pk)]
    url = re.search(r'hx-get="([^"]+part=more[^"]+)"', more).group(1).replace("&amp;", "&")
    last = client.get(url, headers=HTMX).content.decode()
    assert re.findall(r'data-card="(\d+)"', last) == [str(deals[4].pk)] and "part=more" not in last

    # another rep's deals do not come through the back door
    client.force_login(reps[1])
    assert "data-card" not in client.get(url, headers=HTMX).content.decode()


def test_board_needs_the_view_right_and_a_stage_of_the_deal_pipeline(client, reps):
    rep, _, _ = reps
    renewals = Pipeline.objects.create(name="Renewals", order=1)
    foreign = Stage.objects.create(pipeline=renewals, name="Up for renewal", probability=50)
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)

    response = client.post(reverse("opportunities:board_move", args=[deal.pk]), {"stage": foreign.pk}, headers=HTMX)
    assert "is in another pipeline" in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")

    from crm.access.visibility import clear_caches

    ObjectPermission.objects.filter(profile=rep.profile, record_type="opportunities.opportunity").update(
        can_view=False)
    clear_caches()  # what the profile service does after a change
    assert client.get(reverse("opportunities:board")).status_code == 404
