"""Conditions admins write without code ("industry equals technology",
"title contains any of CEO, CTO"), evaluated against one lead. Scoring and
assignment rules share them; custom fields are named by their `cf_<name>` key."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from crm.customization.fields import by_key
from leads.models import Lead, Operator

RT = "leads.lead"
# Lead fields a rule may test, in the order the rule editors list them.
RULE_FIELDS = ["title", "company", "industry", "employees", "annual_revenue", "country", "city", "rating", "status",
               "source", "email", "website", "lifecycle_stage", "budget_confirmed", "budget_amount", "authority_role",
               "timeline_urgency", "timeline_timeframe", "champ_authority", "champ_money", "champ_prioritization"]


def field_choices() -> list[tuple[str, str]]:
    choices = [(name, str(Lead._meta.get_field(name).verbose_name).capitalize()) for name in RULE_FIELDS]
    choices += [(key, cf.label) for key, cf in by_key(RT).items()]
    return choices


def raw_value(lead: Lead, field: str):
    if field.startswith("cf_"):
        return (lead.custom or {}).get(field[3:])
    value = getattr(lead, field + "_id", None) if field in ("status", "source") else getattr(lead, field, None)
    if field in ("status", "source") and value is not None:
        # Picklist values are compared by their stored value ("hot"), not their id.
        picklist = getattr(lead, field)
        return picklist.value if picklist else None
    return value


def _number(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).strip().lower()


def matches(lead: Lead, field: str, op: str, expected: str) -> bool:
    actual = raw_value(lead, field)
    if op == Operator.IS_SET:
        return actual not in (None, "", [])
    if op == Operator.IS_EMPTY:
        return actual in (None, "", [])
    if op in (Operator.GT, Operator.GTE, Operator.LT):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return a > b if op == Operator.GT else a >= b if op == Operator.GTE else a < b
    text, wanted = _text(actual), _text(expected)
    options = [w.strip() for w in wanted.split(",") if w.strip()]
    if op == Operator.EQUALS:
        return text == wanted
    if op == Operator.NOT_EQUALS:
        return text != wanted
    if op == Operator.IN:
        values = text.split(",") if isinstance(actual, list) else [text]
        return any(v in options for v in values)
    if op == Operator.CONTAINS:
        return any(o in text for o in options)
    return False


def conditions_match(lead: Lead, conditions: list[dict]) -> bool:
    return all(matches(lead, c.get("field", ""), c.get("op", ""), c.get("value", "")) for c in conditions or [])


def describe(field: str, op: str, value: str) -> str:
    labels = dict(field_choices())
    label = labels.get(field, field)
    if op in (Operator.IS_SET, Operator.IS_EMPTY):
        return f"{label} {Operator(op).label}"
    return f"{label} {Operator(op).label if op in Operator.values else op} {value}"

