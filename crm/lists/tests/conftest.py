"""What the list-engine tests share: the four lists, records with varied values in every column a list
may show (empty ones too, and ties), the order a column should give, and the page's own links."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse

from crm.core import records
from crm.lists.tests.html import href, parse

LIST_URLS = ("leads:list", "accounts:list", "contacts:list", "opportunities:list")
RECORD_TYPES = {"leads:list": "leads.lead", "accounts:list": "accounts.account",
                "contacts:list": "accounts.contact", "opportunities:list": "opportunities.opportunity"}
# Single capitalised words with different first letters: they sort the same in every collation.
WORDS = ["Aalto", "Berg", "Caro", "Dahl", "Eklund", "Falk", "Grahn", "Holm", "Ivars", "Jokela", "Kask", "Lind",
         "Moberg", "Nurmi", "Oja", "Pihl"]
EMPTY = object()


def list_url(name: str) -> str:
    return reverse(name)


def record_type(url_name: str):
    return records.get(RECORD_TYPES[url_name])


# --- records with every column filled (or empty) -----------------------------------------------------------

@dataclass
class Related:
    """The records the varied records point at."""

    users: list
    accounts: list
    contacts: list
    campaigns: list

    def options(self, field: models.ForeignKey) -> list:
        from accounts.models import Account, Contact
        from campaigns.models import Campaign
        from crm.customization.models import PicklistValue
        from opportunities.models import Pipeline, Stage

        model = field.related_model
        if model._meta.label == settings.AUTH_USER_MODEL:
            return self.users
        if model is PicklistValue:
            return list(PicklistValue.objects.filter(**(field.remote_field.limit_choices_to or {})).order_by("order", "id"))
        if model is Account:
            return self.accounts
        if model is Contact:
            return self.contacts
        if model is Campaign:
            return self.campaigns
        if model is Pipeline:
            return [Pipeline.objects.get(is_default=True)]
        if model is Stage:
            return list(Stage.objects.filter(pipeline__is_default=True).order_by("order", "id"))
        raise AssertionError(f"no options for {field}")


def make_related() -> Related:
    from accounts.models import Account, Contact
    from campaigns.models import Campaign
    from crm.access.tests.factories import UserFactory

    users = [UserFactory(first_name="Aino", last_name="Aaltonen", email="aino@example.com"),
             UserFactory(first_name="Bertil", last_name="Berg", email="bertil@example.com"),
             UserFactory(first_name="Cyrus", last_name="Cohen", email="cyrus@example.com")]
    accounts = [Account.objects.create(name=f"Zeta {w}", owner=users[0]) for w in ("Kilo", "Alfa", "Papa")]
    contacts = [Contact.objects.create(first_name="Yrjö", last_name=f"Zz{w}", owner=users[0]) for w in ("Mu", "Beta")]
    campaigns = [Campaign.objects.create(name=f"Campaign {w}", owner=users[0], start_date=date(2026, 1, 1) + timedelta(days=d))
                 for w, d in (("Tango", 3), ("Echo", 9), ("Golf", 1))]
    return Related(users, accounts, contacts, campaigns)


def value_for(field: models.Field, i: int, related: Related):
    """A value for `field` in the i-th record: a spread of values with ties, and empty every fifth record
    where the field may be empty."""
    j = (i * 7) % 16  # not in the order the records are made (their ids)
    empty = i % 5 == 3
    if field.choices:
        if empty and field.blank:
            return ""
        values = [v for v, _label in field.flatchoices if v not in ("", None)]
        return values[j % len(values)]
    if field.many_to_one:
        if empty and field.null:
            return None
        options = related.options(field)
        return options[j % len(options)]
    if empty and field.null:
        return None
    if isinstance(field, models.BooleanField):
        return j % 2 == 0
    if isinstance(field, models.DateTimeField):
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=j * 5, minutes=i)
    if isinstance(field, models.DateField):
        return date(2026, 1, 1) + timedelta(days=j % 9)
    if isinstance(field, models.DecimalField):
        return Decimal((j % 9) * 1250) + Decimal("0.50")
    if isinstance(field, models.PositiveSmallIntegerField):
        return (j % 9) * 10
    if isinstance(field, (models.IntegerField, models.FloatField)):
        return (j % 9) * 100
    if empty and field.blank:
        return ""
    if field.name == "currency":
        return ["EUR", "SEK", "USD"][j % 3]
    if isinstance(field, models.CharField) and field.max_length and field.max_length <= 3:
        return ["DE", "FI", "SE", "US"][j % 4]
    if isinstance(field, models.EmailField):
        return f"{WORDS[j].lower()}{i}@example.com"
    if isinstance(field, models.URLField):
        return f"https://{WORDS[j].lower()}.example.com"
    return WORDS[j]


def make_varied(url_name: str, n: int, related: Related, custom_key: str | None = None) -> list:
    """`n` records of the list's type with every column the list may show filled from `value_for`."""
    rt = record_type(url_name)
    model, spec = rt.model, rt.list
    names = dict.fromkeys([*spec.columns, *spec.optional_columns])
    made = []
    for i in range(n):
        values = {}
        for name in names:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:  # a column of the type's own
                continue
            if not field.concrete or name == "updated_at":
                continue
            values[field.name] = value_for(field, i, related)
        if url_name == "opportunities:list":  # the stage of the record's own pipeline
            values["pipeline"] = values["stage"].pipeline
        if custom_key:
            j = (i * 7) % 16
            values["custom"] = {} if i % 5 == 3 else {custom_key.removeprefix("cf_"): WORDS[(j * 3) % 16]}
        made.append(create(url_name, **values))
    return made


def create(url_name: str, **values):
    """One record of the list's type through its factory."""
    from accounts.tests.factories import AccountFactory, ContactFactory
    from leads.tests.factories import LeadFactory
    from opportunities.tests.factories import OpportunityFactory

    factory = {"leads:list": LeadFactory, "accounts:list": AccountFactory, "contacts:list": ContactFactory,
               "opportunities:list": OpportunityFactory}[url_name]
    return factory(**values)


def bulk(url_name: str, n: int, owner, *, name: str = "Row", vary: dict | None = None, **values) -> list:
    """`n` records made at once (bulk_create), named "<name> 0000".. in the order of their ids; `vary`
    gives fields a value per record ({"city": lambda i: ...})."""
    from accounts.models import Account, Contact
    from leads.models import Lead
    from opportunities.models import Opportunity, Stage

    if url_name == "leads:list":
        objs = [Lead(last_name=f"{name} {i:04d}", first_name="Bulk", company=f"Company {i % 7}", owner=owner,
                     email=f"bulk{i}@example.com", **values) for i in range(n)]
    elif url_name == "accounts:list":
        objs = [Account(name=f"{name} {i:04d}", owner=owner, **values) for i in range(n)]
    elif url_name == "contacts:list":
        objs = [Contact(last_name=f"{name} {i:04d}", first_name="Bulk", owner=owner, email=f"bulk{i}@example.com",
                        **values) for i in range(n)]
    else:
        stage = Stage.objects.filter(pipeline__is_default=True).order_by("order").first()
        objs = [Opportunity(name=f"{name} {i:04d}", owner=owner, pipeline=stage.pipeline, stage=stage, amount=1000,
                            **values) for i in range(n)]
    for i, obj in enumerate(objs):
        for field, value in (vary or {}).items():
            setattr(obj, field, value(i))
    model = type(objs[0])
    return model.objects.bulk_create(objs, batch_size=1000)


# --- the order a column should give ------------------------------------------------------------------------

def sort_value(record, column: str):
    """What the list orders `record` by in `column` (EMPTY when it has no value): the value itself; a
    choice's position in its choices; a user's name; a picklist value's order; a stage's pipeline and
    stage order; another record's first ordering field (an account's name)."""
    model = type(record)
    if column.startswith("cf_"):
        value = (record.custom or {}).get(column.removeprefix("cf_"))
        return EMPTY if value in (None, "") else value
    field = model._meta.get_field(column)
    value = getattr(record, field.name)
    if value is None or value == "":
        return EMPTY
    if model._meta.label == "opportunities.Opportunity" and column == "stage":
        return (record.pipeline.order, value.order)
    if field.choices:
        return [v for v, _label in field.flatchoices].index(value)
    if field.many_to_one:
        related = field.related_model
        if related._meta.label == settings.AUTH_USER_MODEL:
            return f"{value.first_name} {value.last_name}"
        if related._meta.label == "customization.PicklistValue":
            return value.order
        first = next(o for o in related._meta.ordering if not o.startswith("-"))
        target = getattr(value, first)
        return target.pk if isinstance(target, models.Model) else target
    return value


def expected_order(records_: list, column: str, descending: bool) -> list[int]:
    """Record ids in the order the list must show them: by the column, ties by id, empty values last."""
    keyed = [(sort_value(r, column), r.pk) for r in records_]
    full = sorted([k for k in keyed if k[0] is not EMPTY], reverse=descending)
    empty = sorted([k for k in keyed if k[0] is EMPTY], key=lambda k: k[1], reverse=descending)
    return [pk for _value, pk in full + empty]


# --- reading pages -------------------------------------------------------------------------------------------

def row_ids(response) -> list[int]:
    return [record.pk for record, _cells in response.context["rows"]]


def headers(response) -> list:
    """The <th> of each column (data-column), in order."""
    return parse(response.content).find_all("th", data_column=True)


def header_link(response, column: str) -> str | None:
    th = parse(response.content).find("th", data_column=column)
    assert th is not None, f"no header {column}"
    return href(th.find("a"))


def page_link(response, which: str) -> str | None:
    """The page's "next" / "previous" / "first" link, as rendered."""
    return href(parse(response.content).find("a", data_page=which))


def follow(client, url: str, base: str):
    """GET a link as the browser does: a query-only href ("?sort=x") is relative to the page's path."""
    return client.get(base + url if url.startswith("?") else url)


# --- fixtures ------------------------------------------------------------------------------------------------

@pytest.fixture
def admin(db):
    from crm.access.tests.factories import AdminFactory

    return AdminFactory(email="admin@example.com")


@pytest.fixture
def related(db):
    return make_related()
