"""Lead scores from the admins' rules: fit (field criteria), engagement
(activities and submissions counted over a window) and decay (points lost per
idle period). The score is stored with its explanation, one line per rule that
contributed: [{"label": "Title is C-level", "points": 20}, ...]."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from crm.activities.models import Activity
from leads.models import Lead, ScoringRule
from leads.rules import matches


def _activities(lead: Lead):
    return Activity.objects.filter(content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk)


def _engagement_count(lead: Lead, rule: ScoringRule, now) -> int:
    since = now - timedelta(days=rule.within_days) if rule.within_days else None
    if rule.engagement == ScoringRule.Engagement.WEB_FORM:
        qs = lead.touches.filter(channel="web_form")
        return qs.filter(touched_at__gte=since).count() if since else qs.count()
    qs = _activities(lead).filter(kind=rule.engagement)
    if rule.engagement == ScoringRule.Engagement.TASK:
        qs = qs.filter(status=Activity.Status.DONE)
    return qs.filter(occurred_at__gte=since).count() if since else qs.count()


def last_engagement(lead: Lead):
    latest = _activities(lead).exclude(kind=Activity.Kind.SYSTEM).aggregate(at=Max("occurred_at"))["at"]
    touch = lead.touches.aggregate(at=Max("touched_at"))["at"]
    return max(d for d in (latest, touch, lead.created_at) if d is not None)


def compute(lead: Lead, rules=None, now=None) -> tuple[int, list[dict]]:
    now = now or timezone.now()
    rules = rules if rules is not None else list(ScoringRule.objects.filter(is_active=True))
    lines = []
    for rule in rules:
        points, label = 0, rule.name
        if rule.kind == ScoringRule.Kind.FIT:
            points = rule.points if matches(lead, rule.field, rule.operator, rule.value) else 0
        elif rule.kind == ScoringRule.Kind.ENGAGEMENT:
            count = _engagement_count(lead, rule, now)
            points = count * rule.points
            label = f"{rule.name} ×{count}"
        elif rule.kind == ScoringRule.Kind.DECAY and rule.within_days:
            idle_days = (now - last_engagement(lead)).days
            periods = idle_days // rule.within_days
            points = -abs(rule.points) * periods
        if rule.max_points is not None:
            points = max(-rule.max_points, min(rule.max_points, points))
        if points:
            lines.append({"rule": rule.pk, "label": label, "points": points})
    return sum(line["points"] for line in lines), lines


def lead_score_update(lead_id: int) -> Lead | None:
    """Recompute and store one lead's score. Idempotent: running it twice gives the same row."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).select_related("status", "source").filter(pk=lead_id).first()
        if lead is None:
            return None
        score, lines = compute(lead)
        if score != lead.score or lines != lead.score_breakdown or lead.score_updated_at is None:
            Lead.objects.filter(pk=lead.pk).update(score=score, score_breakdown=lines, score_updated_at=timezone.now())
            lead.score, lead.score_breakdown = score, lines
        else:
            Lead.objects.filter(pk=lead.pk).update(score_updated_at=timezone.now())
    return lead
