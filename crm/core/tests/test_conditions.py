"""One condition vocabulary: `evaluate` in Python and `to_q` in SQL give the same answer over the same
records, for every operator on every kind of field, custom fields and empty values included."""
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

import pytest

from crm.core import conditions
from crm.customization.models import PicklistValue
from crm.customization.tests.factories import CustomFieldFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(reps):
    rep, other, _ = reps
    for name, kind, extra in [("region", "text", {}), ("seats", "number", {}), ("renewal", "date", {}),
                              ("vip", "checkbox", {}), ("tier", "picklist", {"choices": ["Gold", "Silver"]}),
                              ("tags", "multi_picklist", {"choices": ["a", "b"]}), ("champion", "user", {})]:
        CustomFieldFactory(record_type="leads.lead", name=name, label=name.title(), field_type=kind, **extra)
    hot = PicklistValue.objects.get(picklist="leads.status", value="hot")
    rows = [
        dict(last_name="Mäkinen", title="CTO", industry="technology", employees=250, annual_revenue=Decimal("1500000"),
             country="FI", rating="hot", status=hot, owner=rep, budget_confirmed=True,
             custom={"region": "Nordics", "seats": "40", "renewal": "2027-01-31", "vip": True, "tier": "Gold",
                     "tags": ["a"], "champion": rep.pk},
             created_at=datetime(2026, 11, 2, 9, tzinfo=dt_timezone.utc)),
        dict(last_name="Ahmadi", title="Head of Purchasing", industry="finance", employees=None, annual_revenue=None,
             country="IR", rating="", owner=other, budget_confirmed=None,
             custom={"region": "", "seats": "7.5", "tags": ["a", "b"], "vip": False},
             created_at=datetime(2026, 10, 1, tzinfo=dt_timezone.utc)),
        dict(last_name="Smith", title="", industry="", employees=12, country="", rating="cold", owner=None,
             budget_confirmed=False, custom={"seats": "not a number", "renewal": "someday"},
             created_at=datetime(2026, 11, 30, 23, tzinfo=dt_timezone.utc)),
        dict(last_name="Virtanen", title="cto office", industry="technology", employees=50,
             annual_revenue=Decimal("50"), country="fi", rating="warm", owner=rep, custom={},
             created_at=datetime(2026, 11, 15, tzinfo=dt_timezone.utc)),
    ]
    return [LeadFactory(**row) for row in rows], rep


def _cases(rep):
    text = [("title", op, v) for op, v in [("equals", "cto"), ("not_equals", "CTO"), ("contains", "cto"),
                                           ("not_contains", "cto"), ("starts_with", "head"), ("in", "cto, buyer"),
                                           ("not_in", ["CTO"]), ("is_empty", ""), ("is_not_empty", "")]]
    text += [("last_name", "equals", "MÄKINEN"), ("last_name", "contains", "äki"), ("country", "equals", "FI")]
    number = [("employees", op, v) for op, v in [("equals", "50"), ("not_equals", "50"), ("gt", "49"), ("gte", "50"),
                                                  ("lt", "250"), ("lte", "12"), ("is_empty", ""), ("is_not_empty", ""),
                                                  ("gt", "fifty")]]
    number += [("annual_revenue", "gt", "1000"), ("annual_revenue", "lt", "1000000")]
    choice = [("industry", "equals", "technology"), ("industry", "not_equals", "technology"),
              ("industry", "in", "finance,technology"), ("industry", "is_empty", ""), ("rating", "not_in", "hot"),
              ("status", "equals", "hot"), ("status", "not_equals", "hot"), ("status", "is_empty", "")]
    relation = [("owner", "equals", str(rep.pk)), ("owner", "not_equals", str(rep.pk)), ("owner", "is_empty", ""),
                ("owner", "in", [str(rep.pk), "999999"])]
    boolean = [("budget_confirmed", "equals", "true"), ("budget_confirmed", "not_equals", "true"),
               ("budget_confirmed", "equals", "false")]
    dates = [("created_at", "gt", "2026-11-01"), ("created_at", "lt", "2026-11-30"), ("created_at", "gte", "2026-11-30"),
             ("created_at", "lte", "2026-11-02T10:00:00+00:00")]
    custom = [("cf_region", "equals", "nordics"), ("cf_region", "is_empty", ""), ("cf_region", "not_equals", "Nordics"),
              ("cf_region", "contains", "ORD"), ("cf_seats", "gt", "10"), ("cf_seats", "lte", "7.5"),
              ("cf_seats", "not_equals", "40"), ("cf_seats", "is_empty", ""), ("cf_renewal", "gt", "2026-12-01"),
              ("cf_renewal", "is_not_empty", ""), ("cf_vip", "equals", "true"), ("cf_vip", "not_equals", "true"),
              ("cf_tier", "equals", "gold"), ("cf_tier", "in", "Silver"), ("cf_tier", "not_in", "Gold"),
              ("cf_tags", "contains", "b"), ("cf_tags", "not_contains", "a"), ("cf_tags", "is_empty", ""),
              ("cf_champion", "equals", str(rep.pk)), ("cf_champion", "is_empty", "")]
    return text + number + choice + relation + boolean + dates + custom


def _agree(records, condition):
    """evaluate, its compiled form (what the rule engine uses) and to_q give one answer."""
    fields = conditions.fields_for("leads.lead")
    rows = list(Lead.objects.select_related("status").filter(pk__in=[r.pk for r in records]))
    in_python = {r.pk for r in rows if conditions.evaluate(condition, r, fields=fields)}
    compiled = conditions.compile(condition, fields)
    assert {r.pk for r in rows if compiled(r)} == in_python, condition
    in_sql = set(Lead.objects.filter(conditions.to_q(condition, Lead, fields=fields)).values_list("pk", flat=True))
    assert in_python == in_sql, condition
    return in_python


def test_evaluate_and_to_q_agree_on_every_operator_and_field_kind(leads):
    records, rep = leads
    matched_something = 0
    for field, op, value in _cases(rep):
        found = _agree(records, {"field": field, "op": op, "value": value})
        matched_something += bool(found) and len(found) < len(records)
    assert matched_something > 30  # the cases discriminate: most neither match everything nor nothing


def test_groups_and_nesting_agree(leads):
    records, rep = leads
    tree = {"any": [{"all": [{"field": "industry", "op": "equals", "value": "technology"},
                             {"field": "employees", "op": "gt", "value": "100"}]},
                    {"all": [{"field": "country", "op": "equals", "value": "IR"},
                             {"any": [{"field": "cf_seats", "op": "lt", "value": "10"},
                                      {"field": "title", "op": "is_empty"}]}]}]}
    names = {Lead.objects.get(pk=pk).last_name for pk in _agree(records, tree)}
    assert names == {"Mäkinen", "Ahmadi"}
    assert _agree(records, {"all": []}) == {r.pk for r in records}  # no condition: every record
    assert _agree(records, {"any": []}) == set()


def test_empty_values_never_match_positive_operators_and_always_match_negative_ones(leads):
    records, _ = leads
    smith = next(r for r in records if r.last_name == "Smith")
    for op in ("equals", "contains", "in", "gt"):
        field = "employees" if op == "gt" else "industry"
        assert smith.pk not in _agree(records, {"field": "title", "op": op, "value": "x"} if op != "gt"
                                      else {"field": field, "op": op, "value": "1000"})
    for op in ("not_equals", "not_contains", "not_in"):
        assert smith.pk in _agree(records, {"field": "title", "op": op, "value": "cto"})


def test_changes_answer_changed_to_and_from_only_in_python(leads):
    records, _ = leads
    lead = records[0]
    changes = {"rating": ["warm", "hot"]}
    assert conditions.evaluate({"field": "rating", "op": "changed"}, lead, changes=changes)
    assert conditions.evaluate({"field": "rating", "op": "changed_to", "value": "hot"}, lead, changes=changes)
    assert conditions.evaluate({"field": "rating", "op": "changed_from", "value": "WARM"}, lead, changes=changes)
    assert not conditions.evaluate({"field": "rating", "op": "changed_to", "value": "cold"}, lead, changes=changes)
    assert not conditions.evaluate({"field": "rating", "op": "changed"}, lead)
    fields = conditions.fields_for("leads.lead")
    for leaf, expected in [({"field": "rating", "op": "changed"}, True),
                           ({"field": "rating", "op": "changed_to", "value": "hot"}, True),
                           ({"field": "rating", "op": "changed_from", "value": "WARM"}, True),
                           ({"field": "rating", "op": "changed_to", "value": "cold"}, False)]:
        assert conditions.compile(leaf, fields)(lead, changes) is expected
    with pytest.raises(conditions.InvalidCondition):
        conditions.validate({"field": "rating", "op": "changed"}, "leads.lead", sql=True)


@pytest.mark.parametrize(("condition", "message"), [
    ({"field": "nope", "op": "equals", "value": "x"}, "Choose a field"),
    ({"field": "employees", "op": "contains", "value": "x"}, "does not apply"),
    ({"field": "employees", "op": "gt", "value": "many"}, "not a valid value"),
    ({"field": "title", "op": "equals", "value": ""}, "Give a value"),
    ({"field": "created_at", "op": "gt", "value": "yesterday"}, "not a valid value"),
])
def test_validate_names_the_problem(leads, condition, message):
    with pytest.raises(conditions.InvalidCondition, match=message):
        conditions.validate(condition, "leads.lead")


def test_old_spellings_are_read_as_trees():
    assert conditions.normalize(None) == {"all": []}
    assert conditions.normalize([{"field": "a", "op": "equals", "value": 1}]) == {
        "all": [{"field": "a", "op": "equals", "value": 1}]}
    leaf = {"field": "a", "op": "equals", "value": 1}
    assert conditions.normalize(leaf) == {"all": [leaf]}


def test_describe_reads_like_a_sentence(leads):
    text = conditions.describe({"all": [{"field": "industry", "op": "equals", "value": "technology"},
                                        {"any": [{"field": "title", "op": "contains", "value": "CTO"},
                                                 {"field": "employees", "op": "gt", "value": "50"}]}]}, "leads.lead")
    assert text == "Industry equals Technology and (Title contains CTO or Employees greater than 50)"
