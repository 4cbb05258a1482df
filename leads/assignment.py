"""Assignment rules: the first active rule (by order) whose criteria match a
lead names its owner: a user, or the next member of a team in turn. Round
robin reads and advances the rule's pointer under a row lock, so concurrent
web-form submissions and imports never hand two leads to one member while
skipping another."""
from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from leads.models import AssignmentRule, Lead
from crm.core import conditions


def _team_members(team) -> list:
    return list(team.members.filter(is_active=True).order_by("pk")) if team else []


def _next_member(rule: AssignmentRule):
    """Advance the rule's pointer to the member after the last one assigned (caller holds the lock)."""
    members = _team_members(rule.team)
    if not members:
        return None
    ids = [m.pk for m in members]
    after = rule.last_assigned_id
    index = next((i for i, pk in enumerate(ids) if after is not None and pk > after), 0)
    return members[index]


def rule_for(lead: Lead, rules=None) -> AssignmentRule | None:
    rules = rules if rules is not None else AssignmentRule.objects.filter(is_active=True).select_related("user", "team")
    fields = None
    for rule in rules:
        if rule.target == AssignmentRule.Target.TERRITORY and (lead.country or "").upper() not in rule.country_list():
            continue
        fields = fields if fields is not None else conditions.fields_for("leads.lead")
        if conditions.evaluate(rule.conditions, lead, fields=fields):
            return rule
    return None


def owner_by_rules(lead: Lead, rules=None):
    """The owner the active rules give `lead` (advancing round robin), or None when no rule applies."""
    rule = rule_for(lead, rules)
    if rule is None:
        return None
    with transaction.atomic():
        rule = AssignmentRule.objects.select_for_update(of=("self",)).select_related("team", "user").get(pk=rule.pk)
        if rule.target == AssignmentRule.Target.USER:
            owner = rule.user if rule.user and rule.user.is_active else None
        else:
            owner = _next_member(rule)
        if owner is None:
            return None
        rule.last_assigned = owner
        rule.assigned_count += 1
        rule.save(update_fields=["last_assigned", "assigned_count"])
    return owner


def notify_owner(lead: Lead, actor=None) -> None:
    """Tell the new owner, in their own language, that a lead is theirs (not when they assigned it to themselves)."""
    from crm.notifications.services import notification_send

    if not lead.owner_id or (actor is not None and getattr(actor, "pk", None) == lead.owner_id):
        return
    with override(lead.owner.language or None):
        message = _("New lead assigned to you: %(name)s") % {"name": lead}
    notification_send(recipient=lead.owner, message=message, target=lead,
                      verb="lead.assigned", actor=actor)


def notify_assigned(assigned, actor) -> None:
    """One notification per owner the assignment rules gave imported leads to, not one per lead."""
    from django.utils.translation import ngettext

    from crm.access.models import User
    from crm.notifications.services import notification_send

    for owner in User.objects.filter(pk__in=list(assigned)).exclude(pk=getattr(actor, "pk", None)):
        count = assigned[owner.pk]
        with override(owner.language or None):
            message = ngettext("%(count)s lead from an import was assigned to you.",
                               "%(count)s leads from an import were assigned to you.", count) % {"count": count}
        notification_send(recipient=owner, message=message, url=reverse("leads:list") + "?mine=1",
                          verb="lead.assigned", actor=actor)
