"""Lead scores from the admins' rules: fit (field criteria), engagement
(activities and submissions counted over a window) and decay (points lost per
idle period). The score is stored with its explanation, one line per rule that
contributed: [{"label": "Title is C-level", "points": 20}, ...]."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from crm.activities.models import Activity
from leads.models import Lead, ScoringRule
from crm.core import conditions


def _activities(lead: Lead):
    return Activity.objects.filter(content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk)


def _engagement_count(lead: Lead, rule: ScoringRule, now) -> int:
    since = now - timedelta(days=rule.within_days) if rule.within_days else None
    if rule.engagement == ScoringRule.Engagement.WEB_FORM:
        from campaigns.selectors import touch_counts

        return touch_counts(model=Lead, ids=[lead.pk], channel="web_form", since=since).get(lead.pk, 0)
    qs = _activities(lead).filter(kind=rule.engagement)
    if rule.engagement == ScoringRule.Engagement.TASK:
        qs = qs.filter(status=Activity.Status.DONE)
    return qs.filter(occurred_at__gte=since).count() if since else qs.count()


def last_engagement(lead: Lead):
    from campaigns.selectors import last_touches

    latest = _activities(lead).exclude(kind=Activity.Kind.SYSTEM).aggregate(at=Max("occurred_at"))["at"]
    touch = last_touches(model=Lead, ids=[lead.pk]).get(lead.pk)
    return max(d for d in (latest, touch, lead.created_at) if d is not None)


def compute(lead: Lead, rules=None, now=None, batch: _Batch | None = None, fields=None) -> tuple[int, list[dict]]:
    """The score and its explanation. `batch` holds the engagement counts and last engagements of many
    leads, read in a few grouped queries; without it they are read for this lead."""
    now = now or timezone.now()
    rules = rules if rules is not None else list(ScoringRule.objects.filter(is_active=True))
    fields = fields if fields is not None else conditions.fields_for("leads.lead")
    lines = []
    for rule in rules:
        points, label = 0, rule.name
        if rule.kind == ScoringRule.Kind.FIT:
            points = rule.points if conditions.evaluate(rule.conditions, lead, fields=fields) else 0
        elif rule.kind == ScoringRule.Kind.ENGAGEMENT:
            count = batch.counts.get((rule.pk, lead.pk), 0) if batch else _engagement_count(lead, rule, now)
            points = count * rule.points
            label = f"{rule.name} ×{count}"
        elif rule.kind == ScoringRule.Kind.DECAY and rule.within_days:
            latest = max(batch.last.get(lead.pk, lead.created_at), lead.created_at) if batch else last_engagement(lead)
            idle_days = (now - latest).days
            periods = idle_days // rule.within_days
            points = -abs(rule.points) * periods
        if rule.max_points is not None:
            points = max(-rule.max_points, min(rule.max_points, points))
        if points:
            lines.append({"rule": rule.pk, "label": label, "points": points})
    return sum(line["points"] for line in lines), lines


class _Batch:
    """Engagement counts {(rule id, lead id): n} and last engagements {lead id: time} of many leads."""

    def __init__(self, leads: list[Lead], rules: list[ScoringRule], now):
        ids = [lead.pk for lead in leads]
        from campaigns.selectors import last_touches, touch_counts

        activities = Activity.objects.filter(content_type=ContentType.objects.get_for_model(Lead), object_id__in=ids)
        self.counts: dict[tuple[int, int], int] = {}
        for rule in rules:
            if rule.kind != ScoringRule.Kind.ENGAGEMENT:
                continue
            since = now - timedelta(days=rule.within_days) if rule.within_days else None
            if rule.engagement == ScoringRule.Engagement.WEB_FORM:
                counted = touch_counts(model=Lead, ids=ids, channel="web_form", since=since).items()
            else:
                qs = activities.filter(kind=rule.engagement)
                if rule.engagement == ScoringRule.Engagement.TASK:
                    qs = qs.filter(status=Activity.Status.DONE)
                qs = qs.filter(occurred_at__gte=since) if since else qs
                counted = qs.order_by().values("object_id").annotate(n=Count("id")).values_list("object_id", "n")
            for lead_id, count in counted:
                self.counts[(rule.pk, lead_id)] = count
        self.last: dict[int, object] = {}
        if any(rule.kind == ScoringRule.Kind.DECAY for rule in rules):
            latest = (activities.exclude(kind=Activity.Kind.SYSTEM).order_by().values("object_id")
                      .annotate(at=Max("occurred_at")).values_list("object_id", "at"))
            for lead_id, at in [*latest, *last_touches(model=Lead, ids=ids).items()]:
                self.last[lead_id] = max(at, self.last.get(lead_id, at))


def lead_scores_update(lead_ids: list[int]) -> int:
    """Recompute and store the scores of many leads (an import's): the rules are read once and each
    engagement count is one grouped query for all of them. Idempotent, like lead_score_update."""
    now = timezone.now()
    rules = list(ScoringRule.objects.filter(is_active=True))
    with transaction.atomic():
        leads = list(Lead.objects.select_for_update(of=("self",)).select_related("status", "source")
                     .filter(pk__in=lead_ids).order_by("pk"))
        batch = _Batch(leads, rules, now)
        fields = conditions.fields_for("leads.lead")
        for lead in leads:
            lead.score, lead.score_breakdown = compute(lead, rules, now, batch, fields)
            lead.score_updated_at = now
        Lead.objects.bulk_update(leads, ["score", "score_breakdown", "score_updated_at"], batch_size=500)
    return len(leads)


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
