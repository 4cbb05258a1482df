"""Conditions admins write without code ("industry equals technology AND (title
contains CTO OR employees greater than 50)"), in one vocabulary for every rule of
the CRM: sharing rules, scoring, assignment, qualification, and next workflow
rules, approvals, segments, SLA policies and escalations.

A condition is JSON, so it is stored as it is written:

    {"all": [{"field": "industry", "op": "equals", "value": "technology"},
             {"any": [{"field": "title", "op": "contains", "value": "CTO"},
                      {"field": "employees", "op": "gt", "value": "50"}]}]}

and answered two ways that give the same answer (a test runs both over the same
records): `evaluate(condition, record)` in Python, for one record in hand, and
`to_q(condition, model)` in SQL, for sharing, lists and segments. Text compares
without regard to case; an empty field never equals, contains or exceeds
anything, and is always "not equal to" a value.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.db.models import Case, DateField, DateTimeField, DecimalField, Q, When, lookups
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

EQUALS, NOT_EQUALS = "equals", "not_equals"
CONTAINS, NOT_CONTAINS, STARTS_WITH = "contains", "not_contains", "starts_with"
IN, NOT_IN = "in", "not_in"
GT, GTE, LT, LTE = "gt", "gte", "lt", "lte"
IS_EMPTY, IS_NOT_EMPTY = "is_empty", "is_not_empty"
CHANGED, CHANGED_TO, CHANGED_FROM = "changed", "changed_to", "changed_from"

OPERATORS = {
    EQUALS: gettext_lazy("equals"),
    NOT_EQUALS: gettext_lazy("does not equal"),
    CONTAINS: gettext_lazy("contains"),
    NOT_CONTAINS: gettext_lazy("does not contain"),
    STARTS_WITH: gettext_lazy("starts with"),
    IN: gettext_lazy("is one of"),
    NOT_IN: gettext_lazy("is none of"),
    GT: gettext_lazy("greater than"),
    GTE: gettext_lazy("at least"),
    LT: gettext_lazy("less than"),
    LTE: gettext_lazy("at most"),
    IS_EMPTY: gettext_lazy("is empty"),
    IS_NOT_EMPTY: gettext_lazy("is filled in"),
    CHANGED: gettext_lazy("changed"),
    CHANGED_TO: gettext_lazy("changed to"),
    CHANGED_FROM: gettext_lazy("changed from"),
}
NO_VALUE = {IS_EMPTY, IS_NOT_EMPTY, CHANGED}
LIST_VALUE = {IN, NOT_IN}
# Only meaningful for a change being saved (workflow rules); SQL cannot answer them.
CHANGE_OPERATORS = {CHANGED, CHANGED_TO, CHANGED_FROM}

TEXT, NUMBER, DATE, DATETIME, BOOLEAN, CHOICE, MULTI, RELATION = (
    "text", "number", "date", "datetime", "boolean", "choice", "multi", "relation")
KIND_OPERATORS = {
    TEXT: [EQUALS, NOT_EQUALS, CONTAINS, NOT_CONTAINS, STARTS_WITH, IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY],
    NUMBER: [EQUALS, NOT_EQUALS, GT, GTE, LT, LTE, IS_EMPTY, IS_NOT_EMPTY],
    DATE: [EQUALS, NOT_EQUALS, GT, GTE, LT, LTE, IS_EMPTY, IS_NOT_EMPTY],
    DATETIME: [GT, GTE, LT, LTE, IS_EMPTY, IS_NOT_EMPTY],
    BOOLEAN: [EQUALS, NOT_EQUALS],
    CHOICE: [EQUALS, NOT_EQUALS, IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY],
    MULTI: [CONTAINS, NOT_CONTAINS, IS_EMPTY, IS_NOT_EMPTY],
    RELATION: [EQUALS, NOT_EQUALS, IN, NOT_IN, IS_EMPTY, IS_NOT_EMPTY],
}
MAX_DEPTH = 4
MAX_CONDITIONS = 50


class InvalidCondition(ValueError):
    """The condition cannot be used; the message says why, in the user's language."""


@dataclass(frozen=True)
class Field:
    """What a condition may test on a record type: a model field or a custom field."""

    name: str  # the field name, or cf_<name>
    label: str
    kind: str
    choices: tuple[tuple[str, str], ...] = ()  # (stored value, label) for choices, picklists and users
    model_field: models.Field | None = None
    custom: object | None = None

    @property
    def operators(self) -> list[str]:
        return KIND_OPERATORS[self.kind]


# --- the fields of a record type --------------------------------------------------------------------------

def fields_for(record_type: str, names=None, *, with_choices: bool = False) -> dict[str, Field]:
    """The fields conditions on `record_type` may test: `names` (default: the registry's `fields`), then
    every custom field. `with_choices` also reads the picklist values and users a builder offers."""
    from crm.core import approvables, records
    from crm.customization.fields import definitions

    # A registered record type, or a document registered only for approvals (crm.core.approvables: a quote).
    rt = records.find(record_type) or approvables.get(record_type)
    if rt is None:
        raise KeyError(record_type)
    result = {}
    for name in names or rt.fields:
        try:
            field = rt.model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - FieldDoesNotExist: a registry name that is not a field
            continue
        result[name] = _model_field(field, with_choices)
    for cf in definitions(record_type):
        result[cf.key] = _custom_field(cf, with_choices)
    return result


def _model_field(field: models.Field, with_choices: bool = False) -> Field:
    label = str(capfirst(field.verbose_name))
    if field.many_to_one:
        related = field.related_model
        if related._meta.label == "customization.PicklistValue":
            from crm.customization import picklists

            picklist = (field.remote_field.limit_choices_to or {})["picklist"]
            values = picklists.values(picklist, active_only=False) if with_choices else ()
            return Field(field.name, label, CHOICE, tuple((v.value, v.display_label) for v in values), field)
        if related._meta.label == settings.AUTH_USER_MODEL:
            return Field(field.name, label, RELATION, _user_choices() if with_choices else (), field)
        return Field(field.name, label, RELATION, (), field)
    if field.choices:
        return Field(field.name, label, CHOICE, tuple((str(v), str(lbl)) for v, lbl in field.flatchoices), field)
    if isinstance(field, models.BooleanField):
        return Field(field.name, label, BOOLEAN, (), field)
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return Field(field.name, label, NUMBER, (), field)
    if isinstance(field, models.DateTimeField):
        return Field(field.name, label, DATETIME, (), field)
    if isinstance(field, models.DateField):
        return Field(field.name, label, DATE, (), field)
    return Field(field.name, label, TEXT, (), field)


def _user_choices() -> tuple:
    from crm.access.models import User

    return tuple((str(pk), name) for pk, name in User.objects.choices())


def _custom_field(cf, with_choices: bool = False) -> Field:
    from crm.customization.models import FieldType

    t = cf.field_type
    kind = {FieldType.NUMBER: NUMBER, FieldType.CURRENCY: NUMBER, FieldType.PERCENT: NUMBER, FieldType.DATE: DATE,
            FieldType.DATETIME: DATETIME, FieldType.CHECKBOX: BOOLEAN, FieldType.PICKLIST: CHOICE,
            FieldType.MULTI_PICKLIST: MULTI, FieldType.USER: RELATION}.get(t, TEXT)
    choices = tuple((c, c) for c in cf.choices)
    if t == FieldType.USER:
        choices = _user_choices() if with_choices else ()
    return Field(cf.key, cf.display_label, kind, choices, custom=cf)


# --- the shape ----------------------------------------------------------------------------------------------

def leaves(condition: dict | None) -> list[dict]:
    """Every {"field", "op", "value"} of a condition, depth first."""
    if not condition:
        return []
    if "all" in condition or "any" in condition:
        return [leaf for child in condition.get("all", condition.get("any", [])) for leaf in leaves(child)]
    return [condition]


def normalize(condition) -> dict:
    """Any accepted spelling as a tree: None/{} (always true), a bare leaf, or a list of leaves (all must
    hold; the shape assignment rules used to store)."""
    if not condition:
        return {"all": []}
    if isinstance(condition, list):
        return {"all": [normalize(c) if ("all" in c or "any" in c) else c for c in condition]}
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        return {key: [normalize(c) if ("all" in c or "any" in c) else c for c in condition[key]]}
    return {"all": [condition]}


def validate(condition, record_type: str, *, sql: bool = False, fields: dict[str, Field] | None = None) -> dict:
    """The condition as a tree, or InvalidCondition naming the first problem. With `sql`, operators that
    only a saved change can answer (changed, changed to/from) are refused."""
    tree = normalize(condition)
    fields = fields if fields is not None else fields_for(record_type)
    found = leaves(tree)
    if len(found) > MAX_CONDITIONS:
        raise InvalidCondition(_("A rule can test at most %(n)s conditions.") % {"n": MAX_CONDITIONS})
    if _depth(tree) > MAX_DEPTH:
        raise InvalidCondition(_("Groups can be nested at most %(n)s deep.") % {"n": MAX_DEPTH})
    for leaf in found:
        field = fields.get(leaf.get("field", ""))
        if field is None:
            raise InvalidCondition(_("Choose a field for every condition."))
        op = leaf.get("op", "")
        if op not in field.operators and op not in CHANGE_OPERATORS:
            raise InvalidCondition(_("“%(op)s” does not apply to %(field)s.") % {
                "op": OPERATORS.get(op, op), "field": field.label})
        if sql and op in CHANGE_OPERATORS:
            raise InvalidCondition(_("“%(op)s” can only be used by rules that run when a record is saved.") % {
                "op": OPERATORS[op]})
        if op in NO_VALUE:
            continue
        values = _values(leaf)
        if not values or any(v == "" for v in values):
            raise InvalidCondition(_("Give a value for “%(field)s %(op)s”.") % {"field": field.label,
                                                                                "op": OPERATORS[op]})
        for value in values:
            if _typed(field, value) is None:
                raise InvalidCondition(_("“%(value)s” is not a valid value for %(field)s.") % {
                    "value": value, "field": field.label})
    return tree


def _depth(node, level: int = 1) -> int:
    if "all" in node or "any" in node:
        children = node.get("all", node.get("any", []))
        return max([level, *(_depth(c, level + 1) for c in children)])
    return level - 1


def _values(leaf: dict) -> list[str]:
    value = leaf.get("value", "")
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    if leaf.get("op") in LIST_VALUE:
        return [v.strip() for v in str(value).split(",") if v.strip()]
    return [str(value).strip()]


def _typed(field: Field, text: str):
    """A condition's value as the field's type, or None when it is not one."""
    kind = field.kind
    if kind == NUMBER:
        try:
            return Decimal(text.replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            return None
    if kind in (DATE, DATETIME):
        parsed = parse_datetime(text) if kind == DATETIME and "T" in text else None
        if parsed is not None:
            return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, timezone.get_default_timezone())
        day = parse_date(text[:10])
        if day is None:
            return None
        if kind == DATE:
            return day
        return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
    if kind == BOOLEAN:
        lowered = text.lower()
        return True if lowered in ("true", "1", "yes") else False if lowered in ("false", "0", "no") else None
    if kind == RELATION:
        return int(text) if text.isdigit() else None
    return text


# --- in Python --------------------------------------------------------------------------------------------

def evaluate(condition, record, *, changes: dict | None = None, fields: dict[str, Field] | None = None) -> bool:
    """Whether `record` meets `condition`. `changes` ({field: [old, new]}) answers changed / changed to /
    changed from; without it they are false."""
    tree = normalize(condition)
    if fields is None:
        from crm.core import records

        fields = fields_for(records.key_of(record))
    return _evaluate(tree, record, changes, fields)


def _evaluate(node, record, changes, fields) -> bool:
    if "all" in node:
        return all(_evaluate(c, record, changes, fields) for c in node["all"])
    if "any" in node:
        return any(_evaluate(c, record, changes, fields) for c in node["any"])
    field = fields.get(node.get("field", ""))
    if field is None:
        return False
    return leaf_matches(field, node.get("op", ""), node, raw_value(record, field), changes)


def compile(condition, fields: dict[str, Field]):  # noqa: A001 - the conditions module's own verb
    """`evaluate` prepared once for many records: the tree normalised, each leaf's field looked up and its
    values typed ahead, so `compiled(record, changes)` only reads and compares. The same answers as `evaluate`
    (a test runs both over the same records); for a rule engine that checks hundreds of rules per event."""
    return _compile(normalize(condition), fields)


def _always(record, changes=None) -> bool:
    return True


def _never(record, changes=None) -> bool:
    return False


def _compile(node, fields):
    if "all" in node or "any" in node:
        parts = tuple(_compile(c, fields) for c in node["all" if "all" in node else "any"])
        if "all" in node:
            if not parts:
                return _always
            if len(parts) == 1:
                return parts[0]
            return lambda record, changes=None: all(p(record, changes) for p in parts)
        if not parts:
            return _never
        return lambda record, changes=None: any(p(record, changes) for p in parts)
    field = fields.get(node.get("field", ""))
    if field is None:
        return _never
    return _compile_leaf(field, node.get("op", ""), node)


def guard(condition, fields: dict[str, Field]) -> tuple[str, frozenset[str]] | None:
    """A necessary test a rule engine can index on: (field name, values) when the condition can only hold for a
    record whose text or choice `field` is one of `values` (upper-cased), because the condition's top-level AND
    has an "equals" or "is one of" on it. None when there is no such leaf."""
    tree = normalize(condition)
    for leaf in tree.get("all", ()):
        if "all" in leaf or "any" in leaf or leaf.get("op") not in (EQUALS, IN):
            continue
        field = fields.get(leaf.get("field", ""))
        if field is None or field.kind not in (TEXT, CHOICE):
            continue
        values = frozenset(str(w).upper() for w in (_typed(field, v) for v in _values(leaf)) if w is not None)
        if values:
            return field.name, values
    return None


def reader(field: Field):
    """A function of the record giving its value as conditions compare it (raw_value)."""
    return _reader(field)


def _reader(field: Field):
    """raw_value(record, field) as a function of the record."""
    if field.custom is not None:
        name = field.custom.name
        return lambda record: (record.custom or {}).get(name)
    model_field = field.model_field
    if model_field.many_to_one and model_field.related_model._meta.label == "customization.PicklistValue":
        return lambda record: raw_value(record, field)
    attname = model_field.attname
    return lambda record: getattr(record, attname)


def _compile_leaf(field: Field, op: str, leaf: dict):
    import operator

    if op in CHANGE_OPERATORS:
        return lambda record, changes=None: _changed(field, op, leaf, changes)
    read = _reader(field)
    if op == IS_EMPTY:
        return lambda record, changes=None: _empty(read(record))
    if op == IS_NOT_EMPTY:
        return lambda record, changes=None: not _empty(read(record))
    wanted = [w for w in (_typed(field, v) for v in _values(leaf)) if w is not None]
    if not wanted:
        return _never
    negative = op in (NOT_EQUALS, NOT_CONTAINS, NOT_IN)
    kind = field.kind
    first = str(wanted[0]).upper()
    if kind == MULTI:
        def hit(actual):
            return first in {str(a).upper() for a in (actual if isinstance(actual, list) else [actual])}
    elif op in (EQUALS, NOT_EQUALS, IN, NOT_IN):
        if kind in (TEXT, CHOICE):
            texts = frozenset(str(w).upper() for w in wanted)

            def hit(actual):
                return str(actual).upper() in texts
        else:
            def hit(actual):
                return actual in wanted
    elif op in (CONTAINS, NOT_CONTAINS):
        def hit(actual):
            return first in str(actual).upper()
    elif op == STARTS_WITH:
        def hit(actual):
            return str(actual).upper().startswith(first)
    elif op in (GT, GTE, LT, LTE):
        compare, bound = {GT: operator.gt, GTE: operator.ge, LT: operator.lt, LTE: operator.le}[op], wanted[0]

        def hit(actual):
            try:
                return compare(actual, bound)
            except TypeError:
                return False
    else:
        return _never
    plain = kind not in (NUMBER, DATE, DATETIME, BOOLEAN, RELATION)  # _as leaves these values as they are

    def matches(record, changes=None) -> bool:
        actual = read(record)
        if _empty(actual):
            return negative
        if not plain:
            actual = _as(field, actual)
            if actual is None:
                return False
        return hit(actual) != negative

    return matches


def raw_value(record, field: Field):
    """The record's value as conditions compare it: picklists by their stored value, relations by id."""
    if field.custom is not None:
        return (record.custom or {}).get(field.custom.name)
    model_field = field.model_field
    if model_field.many_to_one:
        if model_field.related_model._meta.label == "customization.PicklistValue":
            related = getattr(record, model_field.name)
            return related.value if related is not None else None
        return getattr(record, model_field.attname)
    return getattr(record, model_field.attname)


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def leaf_matches(field: Field, op: str, leaf: dict, actual, changes: dict | None = None) -> bool:
    if op in CHANGE_OPERATORS:
        return _changed(field, op, leaf, changes)
    if op == IS_EMPTY:
        return _empty(actual)
    if op == IS_NOT_EMPTY:
        return not _empty(actual)
    wanted = [w for w in (_typed(field, v) for v in _values(leaf)) if w is not None]
    if not wanted:  # no valid value to compare with: nothing matches (as in SQL)
        return False
    negative = op in (NOT_EQUALS, NOT_CONTAINS, NOT_IN)
    if _empty(actual):
        return negative
    actual = _as(field, actual)
    if actual is None:  # a stored value that is not of the field's type (bad custom data) matches nothing, as in SQL
        return False
    kind = field.kind
    if kind == MULTI:
        items = {str(a).upper() for a in (actual if isinstance(actual, list) else [actual])}
        hit = str(wanted[0]).upper() in items
    elif op in (EQUALS, NOT_EQUALS, IN, NOT_IN):
        if kind in (TEXT, CHOICE):
            hit = str(actual).upper() in {str(w).upper() for w in wanted}
        else:
            hit = actual in wanted
    elif op in (CONTAINS, NOT_CONTAINS):
        hit = str(wanted[0]).upper() in str(actual).upper()
    elif op == STARTS_WITH:
        hit = str(actual).upper().startswith(str(wanted[0]).upper())
    else:
        try:
            hit = {GT: actual > wanted[0], GTE: actual >= wanted[0], LT: actual < wanted[0],
                   LTE: actual <= wanted[0]}[op]
        except (TypeError, KeyError):
            return False
    return not hit if negative else hit


def _as(field: Field, value):
    """A stored value as the field's type (custom fields are JSON: numbers as strings, dates as ISO text)."""
    kind = field.kind
    if kind == NUMBER:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if kind == DATE:
        return value if isinstance(value, date) and not isinstance(value, datetime) else parse_date(str(value)[:10])
    if kind == DATETIME:
        if isinstance(value, datetime):
            return value
        parsed = parse_datetime(str(value))
        return parsed if parsed is None or timezone.is_aware(parsed) else timezone.make_aware(parsed)
    if kind == BOOLEAN:
        return bool(value)
    if kind == RELATION:
        return int(value) if str(value).isdigit() else None
    return value


def _changed(field: Field, op: str, leaf: dict, changes: dict | None) -> bool:
    if not changes:
        return False
    name = field.custom.name if field.custom is not None else field.model_field.attname
    change = changes.get(name) or changes.get(field.name)
    if change is None:
        return False
    old, new = change
    if op == CHANGED:
        return old != new
    wanted = {str(v).upper() for v in _values(leaf)}
    value = new if op == CHANGED_TO else old
    return old != new and str(value if value is not None else "").upper() in wanted


# --- in SQL ---------------------------------------------------------------------------------------------

_NOTHING = Q(pk__in=[])


def to_q(condition, model, *, fields: dict[str, Field] | None = None) -> Q:
    """The records of `model` that meet `condition`, as a Q (the same answer as `evaluate`)."""
    tree = normalize(condition)
    if fields is None:
        from crm.core import records

        fields = fields_for(records.key_of(model))
    return _to_q(tree, fields)


def _to_q(node, fields) -> Q:
    if "all" in node or "any" in node:
        children = [_to_q(c, fields) for c in node.get("all", node.get("any", []))]
        if not children:
            return Q() if "all" in node else _NOTHING
        combined = children[0]
        for child in children[1:]:
            combined = combined & child if "all" in node else combined | child
        return combined
    field = fields.get(node.get("field", ""))
    op = node.get("op", "")
    if field is None or op in CHANGE_OPERATORS:
        return _NOTHING
    return _leaf_q(field, op, node)


def _lookup(field: Field) -> str:
    """The ORM path a leaf of a model field filters on (picklists by their stored value, relations by id)."""
    model_field = field.model_field
    if model_field.many_to_one:
        if model_field.related_model._meta.label == "customization.PicklistValue":
            return f"{model_field.name}__value"
        return model_field.attname
    return model_field.name


def _empty_q(field: Field) -> Q:
    if field.custom is not None:
        key = field.custom.name
        return (~Q(custom__has_key=key) | Q(**{f"custom__{key}": None}) | Q(**{f"custom__{key}": ""})
                | Q(**{f"custom__{key}": []}))
    path = _lookup(field)
    model_field = field.model_field
    if model_field.many_to_one:
        return Q(**{f"{model_field.attname}__isnull": True})
    q = Q(**{f"{path}__isnull": True}) if model_field.null else Q(pk__in=[])
    if isinstance(model_field, (models.CharField, models.TextField)):
        q |= Q(**{path: ""})
    return q


def _leaf_q(field: Field, op: str, leaf: dict) -> Q:
    if op == IS_EMPTY:
        return _empty_q(field)
    if op == IS_NOT_EMPTY:
        return ~_empty_q(field)
    wanted = [w for w in (_typed(field, v) for v in _values(leaf)) if w is not None]
    negative = op in (NOT_EQUALS, NOT_CONTAINS, NOT_IN)
    if not wanted:
        return _NOTHING
    positive = _positive_q(field, {NOT_EQUALS: EQUALS, NOT_CONTAINS: CONTAINS, NOT_IN: IN}.get(op, op), wanted)
    if negative:  # an empty field is "not equal" to anything, and SQL's NULL would otherwise drop it
        return ~positive | _empty_q(field)
    return positive & ~_empty_q(field)


def _positive_q(field: Field, op: str, wanted: list) -> Q:
    kind = field.kind
    if field.custom is not None:
        return _custom_q(field, op, wanted)
    path = _lookup(field)
    if kind in (TEXT, CHOICE):
        if op in (EQUALS, IN):
            q = Q()
            for value in wanted:
                q |= Q(**{f"{path}__iexact": value})
            return q
        if op == CONTAINS:
            return Q(**{f"{path}__icontains": wanted[0]})
        if op == STARTS_WITH:
            return Q(**{f"{path}__istartswith": wanted[0]})
        return _NOTHING
    if op in (EQUALS, IN):
        return Q(**{f"{path}__in": wanted})
    if op in (GT, GTE, LT, LTE):
        return Q(**{f"{path}__{op}": wanted[0]})
    return _NOTHING


def _custom_q(field: Field, op: str, wanted: list) -> Q:
    key, kind = field.custom.name, field.kind
    if kind == MULTI:
        return Q(**{f"custom__{key}__contains": [str(wanted[0])]}) if op == CONTAINS else _NOTHING
    if kind == BOOLEAN:
        return Q(**{f"custom__{key}__in": [bool(w) for w in wanted]}) if op in (EQUALS, IN) else _NOTHING
    if kind == RELATION:
        return Q(**{f"custom__{key}__in": wanted}) if op in (EQUALS, IN) else _NOTHING
    text = KeyTextTransform(key, "custom")
    if kind in (TEXT, CHOICE):
        if op in (EQUALS, IN):
            q = Q()
            for value in wanted:
                q |= Q(**{f"custom__{key}__iexact": value})
            return q
        if op == CONTAINS:
            return Q(**{f"custom__{key}__icontains": wanted[0]})
        if op == STARTS_WITH:
            return Q(**{f"custom__{key}__istartswith": wanted[0]})
        return _NOTHING
    # Numbers and dates are JSON text: compared as their type, and never cast when not one (a bad stored
    # value must not break the query), which `evaluate` mirrors by treating it as empty.
    if kind == NUMBER:
        target, pattern = DecimalField(max_digits=30, decimal_places=10), r"^-?[0-9]+(\.[0-9]+)?$"
    elif kind == DATE:
        target, pattern = DateField(), r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    else:
        target, pattern = DateTimeField(), r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
    cast = Case(When(**{f"custom__{key}__regex": pattern}, then=Cast(text, target)), default=None, output_field=target)
    lookup = {EQUALS: lookups.In, IN: lookups.In, GT: lookups.GreaterThan, GTE: lookups.GreaterThanOrEqual,
              LT: lookups.LessThan, LTE: lookups.LessThanOrEqual}.get(op)
    if lookup is None:
        return _NOTHING
    return Q(lookup(cast, wanted if lookup is lookups.In else wanted[0]))


def describe(condition, record_type: str, fields: dict[str, Field] | None = None) -> str:
    """A condition in words: "Industry equals Technology and (Title contains CTO or …)"."""
    fields = fields if fields is not None else fields_for(record_type)

    def words(node, top=False) -> str:
        if "all" in node or "any" in node:
            parts = [words(c) for c in node.get("all", node.get("any", []))]
            joined = (_(" and ") if "all" in node else _(" or ")).join(parts)
            return joined if top or len(parts) < 2 else f"({joined})"
        field = fields.get(node.get("field", ""))
        label = field.label if field else node.get("field", "")
        op = node.get("op", "")
        if op in NO_VALUE:
            return f"{label} {OPERATORS.get(op, op)}"
        labels = dict(field.choices) if field else {}
        shown = ", ".join(labels.get(v, v) for v in _values(node))
        return f"{label} {OPERATORS.get(op, op)} {shown}"

    tree = normalize(condition)
    return words(tree, top=True) if leaves(tree) else _("every record")
