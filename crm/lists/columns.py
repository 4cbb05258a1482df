"""List columns derived from the model: label, how a cell renders, how the column
sorts (both ways, empty values last) and what a row must load for it.

Cells are rendered in Python, not with a template include per cell: a page of 50
rows and ten columns would otherwise spend more time in the template engine than
in the database."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, Left, NullIf
from django.db.models.lookups import Exact, IsNull
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.core import formatting
from crm.customization.models import CustomField, FieldType

# Field names whose values read left to right whatever the page's direction (phones, codes).
LTR_NAMES = {"phone", "mobile", "fax", "home_phone", "postal_code", "country", "currency", "website", "email",
             "billing_postal_code", "billing_country", "shipping_postal_code", "shipping_country",
             "mailing_postal_code", "mailing_country", "number", "code"}
LTR_CUSTOM = {FieldType.EMAIL, FieldType.PHONE, FieldType.URL}
NUMERIC_CUSTOM = {FieldType.NUMBER, FieldType.CURRENCY, FieldType.PERCENT}


def ltr(html_text: str) -> str:
    """Already-escaped text isolated as left-to-right (a phone number stays "+358 40 …" on a Persian page)."""
    return f'<bdi dir="ltr">{html_text}</bdi>' if html_text else ""


@dataclass
class Column:
    name: str  # field name, custom-field key (cf_<name>) or a column of the type's own (ListSpec.cells)
    label: str
    field: models.Field | None = None
    custom: CustomField | None = None
    cell: Callable | None = None  # the type's own renderer
    sortable: bool = True

    @property
    def related_field(self) -> models.ForeignKey | None:
        return self.field if self.field is not None and self.field.many_to_one else None

    def loads(self) -> set[str]:
        """Concrete fields a row must load for this column."""
        if self.custom is not None:
            return {"custom"}
        if self.field is not None and self.field.concrete:
            return {self.field.name}
        return set()

    def sort_expressions(self, model, descending: bool) -> list:
        """Non-null expressions to order by, in the column's ascending sense, so keyset pages can compare
        them. Empty values come last whichever way: a key of their own goes first (no value is past every
        other in every collation, and a sentinel past the range of an integer column is refused by the
        query's own range check)."""
        if self.custom is not None:
            return _custom_sort(self.custom, descending)
        field = self.field
        name = field.name
        if field.choices:
            # In the order of the choices; no choice (a blank value) after every choice, both ways.
            values = [value for value, _label in field.flatchoices if value not in ("", None)]
            whens = [When(**{name: value}, then=Value(i)) for i, value in enumerate(values)]
            return [Case(*whens, default=Value(-1 if descending else len(whens)), output_field=IntegerField())]
        if field.many_to_one:
            return _related_sort(field, descending)
        text = isinstance(field, (models.CharField, models.TextField))
        empty = ([Q(**{f"{name}__isnull": True})] if field.null else []) + ([Q(**{name: ""})] if text and field.blank else [])
        if not empty:  # never empty: the column alone, which an index may serve
            return [_text_key(F(name), field) if text else F(name)]
        return _or_empty(F(name), field, empty, descending)

    def renderer(self) -> Callable[[models.Model], str]:
        """record → the cell's HTML (escaped)."""
        if self.cell is not None:
            return self.cell
        if self.custom is not None:
            return _custom_renderer(self.custom)
        return field_renderer(self.field)


def field_renderer(field: models.Field) -> Callable[[models.Model], str]:
    name, attname = field.name, field.attname
    isolate = name in LTR_NAMES or isinstance(field, (models.EmailField, models.URLField))
    if field.choices:
        labels = {value: escape(str(label)) for value, label in field.flatchoices}
        return lambda record: labels.get(getattr(record, attname), escape(str(getattr(record, attname) or "")))
    if field.many_to_one and field.related_model._meta.label == "customization.PicklistValue":
        return _picklist_renderer(attname)
    if field.many_to_one:
        def related(record):
            value = getattr(record, name)
            return "" if value is None else escape(str(value))
        return related
    if isinstance(field, models.BooleanField):
        yes, no = escape(_("Yes")), escape(_("No"))
        return lambda record: "" if getattr(record, attname) is None else (yes if getattr(record, attname) else no)
    if isinstance(field, models.DateTimeField):
        stamp = formatting.date_formatter(with_time=True)
        return lambda record: escape(stamp(getattr(record, attname)))
    if isinstance(field, models.DateField):
        day = formatting.date_formatter()
        return lambda record: escape(day(getattr(record, attname)))
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return lambda record: ltr(escape(formatting.format_number(getattr(record, attname))))
    if isolate:
        return lambda record: ltr(escape(getattr(record, attname) or ""))
    return lambda record: escape(str(getattr(record, attname) or ""))


def money_cell(amount: str, currency: str | None = None) -> Callable[[models.Model], str]:
    """A renderer for an amount in the record's own currency (`currency` names its field) or the
    organisation's."""
    corporate = getattr(settings, "CORPORATE_CURRENCY", "EUR")

    def render(record):
        value = getattr(record, amount)
        code = getattr(record, currency) if currency else corporate
        return ltr(escape(formatting.format_money(value, code or corporate))) if value is not None else ""
    return render


def _custom_renderer(cf: CustomField) -> Callable[[models.Model], str]:
    from crm.customization.fields import display

    key, isolate = cf.name, cf.field_type in LTR_CUSTOM or cf.field_type in NUMERIC_CUSTOM

    def render(record):
        raw = (record.custom or {}).get(key)
        if raw is None and cf.field_type != FieldType.CHECKBOX:
            return ""
        text = escape(display(cf, raw, users=getattr(record, "_list_users", None)))
        return ltr(text) if isolate else text
    return render


def _neutral(field: models.Field) -> Value:
    """Any value of the field's type: what an empty row compares with (its own key already puts it last)."""
    if isinstance(field, models.DateTimeField):
        value = datetime(2000, 1, 1, tzinfo=UTC)
    elif isinstance(field, models.DateField):
        value = date(2000, 1, 1)
    elif isinstance(field, models.BooleanField):
        value = False
    elif isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        value = 0
    else:
        value = ""
    return Value(value, output_field=field)


def _or_empty(expression, field: models.Field, empty: list, descending: bool) -> list:
    """[empty last, the value] for a column that may be empty (`empty`: the conditions that say so)."""
    value = Coalesce(expression, _neutral(field), output_field=field)
    if isinstance(field, (models.CharField, models.TextField)):
        value = _text_key(value, field)
    return [_empty_key(empty, descending), value]


# Long texts sort by their start: the keys of a page's last row travel in its Next link, which must stay short.
SORT_PREFIX = 200


def _long(field: models.Field) -> bool:
    return isinstance(field, models.TextField) or (field.max_length or 0) > SORT_PREFIX


def _text_key(expression, field: models.Field | None = None):
    """The text to order by: the whole value, or the start of a long one (longer values that share it come
    in the order of their ids)."""
    if field is not None and not _long(field):
        return expression
    return Left(expression, SORT_PREFIX, output_field=models.TextField())


def _empty_key(conditions: list, descending: bool):
    """0/1 ordered before a text value: 1 for empty rows in an ascending list, 0 in a descending one, so
    that they come last either way whatever the database's collation."""
    empty, full = (0, 1) if descending else (1, 0)
    return Case(*[When(c, then=Value(empty)) for c in conditions], default=Value(full), output_field=IntegerField())


def _picklist_renderer(attname: str) -> Callable[[models.Model], str]:
    """A picklist cell: the value's label in the reader's language, from the picklist cache, each value's
    label worked out once per page."""
    from crm.customization import picklists

    language = get_language() or "en"
    labels: dict[int, str] = {}

    def render(record) -> str:
        pk = getattr(record, attname)
        if pk is None:
            return ""
        label = labels.get(pk)
        if label is None:
            value = picklists.get(pk)
            label = labels[pk] = "" if value is None else escape(value.label_translations.get(language) or value.label)
        return label
    return render


def _related_sort(field: models.ForeignKey, descending: bool) -> list:
    """Order by what the related record shows: a user's name, a picklist's own order, else the related
    model's first ordering field (an account's name). No related record: last, both ways."""
    related = field.related_model
    name = field.name
    none = [Q(**{f"{name}__isnull": True})]
    if related._meta.label == settings.AUTH_USER_MODEL:
        full_name = Concat(f"{name}__first_name", Value(" "), f"{name}__last_name", output_field=models.CharField())
        return [_empty_key(none, descending), Coalesce(full_name, Value(""), output_field=models.CharField())]
    if related._meta.label == "customization.PicklistValue":
        return _or_empty(F(f"{name}__order"), related._meta.get_field("order"), none, descending)
    ordering = [o for o in related._meta.ordering if isinstance(o, str) and not o.startswith("-") and o != "id"]
    target = ordering[0] if ordering else "pk"
    related_field = related._meta.get_field(target) if target != "pk" else related._meta.pk
    if related_field.many_to_one:  # ordered by another relation (a stage by its pipeline): by its id
        return _or_empty(F(f"{name}__{related_field.attname}"), models.BigIntegerField(), none, descending)
    if isinstance(related_field, (models.CharField, models.TextField)):
        none = [*none, Q(**{f"{name}__{target}": ""})]
    return _or_empty(F(f"{name}__{target}"), related_field, none, descending)


def _custom_sort(cf: CustomField, descending: bool) -> list:
    text = KeyTextTransform(cf.name, "custom")
    empty = [IsNull(text, True), Exact(text, Value(""))]
    if cf.field_type in NUMERIC_CUSTOM:
        number = models.DecimalField(max_digits=30, decimal_places=8)
        return _or_empty(Cast(NullIf(text, Value("")), number), number, empty, descending)
    # ISO dates and times sort as text; everything else too. No value (or an empty one): last, both ways.
    return _or_empty(text, models.TextField(), empty, descending)


_columns: dict[tuple, dict[str, Column]] = {}


def columns_for(record_type, hidden: set[str]) -> dict[str, Column]:
    """Every column a list of `record_type` may show, by name, minus the fields hidden from the reader.
    Worked out once per process for each set of hidden fields, language and version of the custom fields
    (a saved custom field shows at once), then reused; each caller gets its own dict."""
    from django.utils.translation import get_language

    from crm.customization.fields import definitions_version

    key = (record_type.key, frozenset(hidden), get_language(), definitions_version(record_type.key))
    found = _columns.get(key)
    if found is None:
        if len(_columns) >= 500:
            _columns.clear()
        found = _columns[key] = _columns_for(record_type, hidden)
    return dict(found)


def _columns_for(record_type, hidden: set[str]) -> dict[str, Column]:
    from crm.customization.fields import definitions

    model, spec = record_type.model, record_type.list
    names = list(dict.fromkeys([*spec.columns, *spec.optional_columns]))
    result: dict[str, Column] = {}
    for name in names:
        if name in hidden:
            continue
        field = _field(model, name)
        if field is None and name not in spec.cells:
            continue
        label = capfirst(field.verbose_name) if field is not None else name
        result[name] = Column(name, str(label), field=field, cell=spec.cells.get(name),
                              sortable=field is not None or name in spec.sorts)
    for cf in definitions(record_type.key):
        if cf.key not in hidden:
            result[cf.key] = Column(cf.key, cf.display_label, custom=cf)
    return result


def _field(model, name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: a column of the type's own
        return None


def prefetch_related(records: list, columns: list[Column]) -> None:
    """Give the page's rows the related records their columns show, one small query per related model
    (joined into the page's query, they made PostgreSQL sort every match before taking 50), and the users
    that user-lookup custom fields name."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    by_model: dict[type, set] = {}
    fields = [c.related_field for c in columns if c.related_field is not None]
    for field in fields:
        by_model.setdefault(field.related_model, set()).update(
            getattr(r, field.attname) for r in records if getattr(r, field.attname) is not None)
    user_fields = [c.custom.name for c in columns if c.custom is not None and c.custom.field_type == FieldType.USER]
    if user_fields:
        ids = by_model.setdefault(User, set())
        for record in records:
            for name in user_fields:
                value = (record.custom or {}).get(name)
                if isinstance(value, int):
                    ids.add(value)
    loaded = {}
    for model, ids in by_model.items():
        if not ids:
            loaded[model] = {}
            continue
        if model is User:  # users and picklist values come from their process-wide caches
            from crm.access.directory import people

            loaded[model] = people(ids)
            continue
        if model._meta.label == "customization.PicklistValue":
            from crm.customization import picklists

            loaded[model] = {pk: picklists.get(pk) for pk in ids}
            continue
        from crm.core import records as registry

        qs = model._base_manager.filter(pk__in=ids)
        try:
            spec = registry.for_model(model).list
        except KeyError:
            spec = None
        if spec is not None and spec.load:  # a registered record type names the fields its name needs
            qs = qs.only("pk", *spec.load)
        loaded[model] = qs.in_bulk()
    for field in fields:
        objects = loaded[field.related_model]
        for record in records:
            field.set_cached_value(record, objects.get(getattr(record, field.attname)))
    if user_fields:
        for record in records:
            record._list_users = loaded[User]


def language_key() -> str:
    return get_language() or "en"
