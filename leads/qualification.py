"""BANT and CHAMP qualification: which criteria a lead meets, what is still
missing, and whether it may become SQL or be converted.

The policy comes from the lead owner's team when that team has one, else the
global policy, else the defaults below (every criterion 25 points, all four
needed for SQL and conversion)."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from crm.core.config_cache import ConfigCache
from leads.models import Framework, Lead, QualificationPolicy

# The policies by team, per process until one is saved or deleted (leads/apps.py connects the signals).
qualification_config = ConfigCache("qualification", size=8)


def _filled(*names: str) -> dict:
    return {"all": [{"field": n, "op": "is_not_empty"} for n in names]}


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    fields: tuple[str, ...]
    hint: str

    def met(self, lead: Lead) -> bool:
        from crm.core import conditions

        return conditions.evaluate(MET[self.key], lead, fields=conditions.fields_for("leads.lead", self.fields))


# What meeting each criterion takes, in the CRM's one condition vocabulary (crm.core.conditions).
MET = {
    "budget": {"all": [{"field": "budget_confirmed", "op": "equals", "value": "true"},
                       {"field": "budget_amount", "op": "is_not_empty"}]},
    "authority": _filled("authority_role"),
    "need": {"any": [{"field": "need_pain_points", "op": "is_not_empty"},
                     {"field": "need_requirements", "op": "is_not_empty"}]},
    "timeline": {"all": [{"field": "timeline_timeframe", "op": "is_not_empty"},
                         {"field": "timeline_timeframe", "op": "not_equals", "value": "unknown"}]},
    "challenges": _filled("champ_challenges"),
    "champ_authority": _filled("champ_authority"),
    "money": _filled("champ_money"),
    "prioritization": _filled("champ_prioritization"),
}

CRITERIA = {
    Framework.BANT: [
        Criterion("budget", _("Budget"), ("budget_confirmed", "budget_amount"), _("Confirm the budget and its amount.")),
        Criterion("authority", _("Authority"), ("authority_role",), _("Record the contact's buying role.")),
        Criterion("need", _("Need"), ("need_pain_points", "need_requirements", "need_desired_outcome"),
                  _("Describe the pain points or requirements.")),
        Criterion("timeline", _("Timeline"), ("timeline_urgency", "timeline_timeframe"), _("Set the purchase timeframe.")),
    ],
    Framework.CHAMP: [
        Criterion("challenges", _("Challenges"), ("champ_challenges",), _("Describe the challenges.")),
        Criterion("champ_authority", _("Authority"), ("champ_authority",), _("Record who decides.")),
        Criterion("money", _("Money"), ("champ_money",), _("Enter the money available.")),
        Criterion("prioritization", _("Prioritization"), ("champ_prioritization",), _("Set the priority.")),
    ],
}


def default_criteria(framework: str) -> dict:
    return {c.key: {"points": 25, "sql": True, "convert": True} for c in CRITERIA[framework]}


@dataclass
class Item:
    criterion: Criterion
    met: bool
    points: int
    for_sql: bool
    for_conversion: bool


@dataclass
class Progress:
    framework: str
    items: list[Item] = field(default_factory=list)

    @property
    def framework_label(self) -> str:
        return Framework(self.framework).label

    @property
    def score(self) -> int:
        return sum(i.points for i in self.items if i.met)

    @property
    def max_score(self) -> int:
        return sum(i.points for i in self.items)

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.max_score) if self.max_score else 100

    @property
    def missing_for_sql(self) -> list[Item]:
        return [i for i in self.items if i.for_sql and not i.met]

    @property
    def missing_for_conversion(self) -> list[Item]:
        return [i for i in self.items if i.for_conversion and not i.met]

    @property
    def ready_for_sql(self) -> bool:
        return not self.missing_for_sql

    @property
    def ready_for_conversion(self) -> bool:
        return not self.missing_for_conversion


def policy_for(lead: Lead) -> QualificationPolicy:
    """The owner's team policy (first team by name that has one), else the global one, else defaults."""
    policies = qualification_config.get("policies", lambda: {p.team_id: p for p in QualificationPolicy.objects.all()})
    if lead.owner_id and len(policies) > (None in policies):
        for team_id in lead.owner.teams.order_by("name").values_list("pk", flat=True):
            if team_id in policies:
                return policies[team_id]
    return policies.get(None) or QualificationPolicy(framework=Framework.BANT, criteria=default_criteria(Framework.BANT))


def progress(lead: Lead, policy: QualificationPolicy | None = None) -> Progress:
    policy = policy or policy_for(lead)
    settings = {**default_criteria(policy.framework), **(policy.criteria or {})}
    result = Progress(policy.framework)
    for criterion in CRITERIA[policy.framework]:
        conf = settings.get(criterion.key, {})
        result.items.append(Item(criterion, criterion.met(lead), int(conf.get("points", 0) or 0),
                                 bool(conf.get("sql")), bool(conf.get("convert"))))
    return result
