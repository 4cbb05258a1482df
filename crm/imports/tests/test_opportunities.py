"""A Pipedrive deals export into opportunities: stages by name in any of our languages bring their pipeline and
probability, amounts are read as the importing user writes numbers, and the organisations become accounts."""
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Account
from crm.imports.tests.pages import job_headers, latest_job, map_and_preview, map_values, run, upload
from opportunities.models import Opportunity, Pipeline, Stage
from opportunities.tests.factories import default_pipeline, stage

HEADER = "Deal - Title,Deal - Value,Organization - Name,Deal - Stage,Deal - Expected close date,Deal - ID\n"
ROWS = [
    # title, value (fi, en), organisation, stage, close date
    ("Konepaja huoltosopimus", ("12 500,00", "12,500.00"), "Pohjolan Konepaja Oy", "Tarjous", "2026-05-31"),
    ("Konepaja varaosat", ("1 200,50", "1,200.50"), "pohjolan konepaja OY", "Qualification", "2026-06-30"),
    ("Saimaa renewal", ("8 000", "8,000"), "Saimaan Puutuote Oy", "Renewal due", "2026-09-01"),
    ("Kavir pilot", ("3 000,00", "3,000.00"), "کویر تجارت", "Contact Made", "2026-07-15"),
]


def deals_csv(language: str) -> bytes:
    column = 0 if language == "fi" else 1
    lines = [f'{title},"{values[column]}",{org},{stage_name},{close},{n}\n'
             for n, (title, values, org, stage_name, close) in enumerate(ROWS, start=1)]
    return (HEADER + "".join(lines)).encode()


@pytest.fixture
def renewals(db):
    pipeline = Pipeline.objects.create(name="Renewals", order=1)
    return Stage.objects.create(pipeline=pipeline, name="Renewal due", order=0, probability=60)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fi", "en"])
def test_pipedrive_deals(client, rep, renewals, language):
    rep.language = language
    rep.save()
    qualification = stage("Qualification")
    # given a deals export, uploaded by a user who writes numbers in their language
    upload(client, "opportunities", "deals.csv", deals_csv(language))
    job = latest_job()
    # then its columns map with no manual mapping (the deal's own id is not imported)
    assert {h: job.mapping[h] for h in job_headers(job)} == {
        "Deal - Title": "name", "Deal - Value": "amount", "Organization - Name": "account", "Deal - Stage": "stage",
        "Deal - Expected close date": "close_date", "Deal - ID": ""}
    # when the dry run runs, the Pipedrive stage we do not have is mapped to ours, and it is imported
    map_and_preview(client, job)
    assert job.preview["unknown"] == {"stage": ["Contact Made"]}
    map_values(client, job, {"Contact Made": str(qualification.pk)})
    job = run(client, job)
    assert (job.status, job.created_count, job.error_count) == ("done", 4, 0), (job.errors, job.message)
    deals = {o.name: o for o in Opportunity.objects.select_related("stage", "pipeline", "account")}
    # then each is in its stage, the stage's pipeline, with the stage's probability
    proposal = stage("Proposal / price quote")
    assert (deals["Konepaja huoltosopimus"].stage, deals["Konepaja huoltosopimus"].probability) == (proposal, 65)
    assert (deals["Konepaja varaosat"].stage, deals["Konepaja varaosat"].probability) == (qualification, 20)
    assert (deals["Saimaa renewal"].stage, deals["Saimaa renewal"].pipeline, deals["Saimaa renewal"].probability) == (
        renewals, renewals.pipeline, 60)
    assert deals["Kavir pilot"].stage == qualification
    assert {d.pipeline for name, d in deals.items() if name != "Saimaa renewal"} == {default_pipeline()}
    # amounts and dates as written
    assert {name: d.amount for name, d in deals.items()} == {
        "Konepaja huoltosopimus": Decimal("12500.00"), "Konepaja varaosat": Decimal("1200.50"),
        "Saimaa renewal": Decimal("8000.00"), "Kavir pilot": Decimal("3000.00")}
    assert deals["Konepaja huoltosopimus"].close_date == date(2026, 5, 31)
    assert {d.currency for d in deals.values()} == {"EUR"} and {d.owner for d in deals.values()} == {rep}
    # the organisations became accounts, once each whatever their case
    assert sorted(Account.objects.values_list("name", flat=True)) == sorted(
        ["Pohjolan Konepaja Oy", "Saimaan Puutuote Oy", "کویر تجارت"])
    assert deals["Konepaja huoltosopimus"].account == deals["Konepaja varaosat"].account
    assert set(Account.objects.values_list("owner", flat=True)) == {rep.pk}


@pytest.mark.django_db
def test_salesforce_opportunities_report(client, rep):
    """A Salesforce opportunities report: its types become ours, closed deals are closed with their close date,
    and each imported deal has its first stage change, so stage history and forecasts count it."""
    from crm.imports.tests.pages import fixture, import_file
    from opportunities.models import StageChange

    rep.language = "en"
    rep.save()
    job = import_file(client, "opportunities", "report.csv", fixture("salesforce_opportunities.csv"),
                      values={"Proposal/Price Quote": str(stage("Proposal / price quote").pk)})
    assert (job.status, job.created_count, job.error_count) == ("done", 3, 0), (job.errors, job.message)
    deals = {o.name: o for o in Opportunity.objects.select_related("stage")}
    assert {name: d.opportunity_type for name, d in deals.items()} == {
        "Konepaja - 40 licences": "new_business", "Kavir - support renewal": "renewal", "Saimaa upgrade": "upsell"}
    assert deals["Konepaja - 40 licences"].next_step == "Send revised quote"
    assert deals["Konepaja - 40 licences"].amount_corporate == Decimal("48000.00")
    assert deals["Konepaja - 40 licences"].expected_revenue == Decimal("31200.00")
    won = deals["Kavir - support renewal"]
    assert won.stage.outcome == "won" and won.closed_at.date() == date(2026, 10, 15)
    assert deals["Konepaja - 40 licences"].closed_at is None
    assert StageChange.objects.filter(opportunity__in=deals.values(), from_stage=None).count() == 3
    assert deals["Saimaa upgrade"].closed_at.date() == date(2026, 9, 30)
