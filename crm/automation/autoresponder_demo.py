"""The demo auto-responder: a new lead from the web form or from social media is thanked for its enquiry, in its
language, from the "Thanks for your interest" template (the workflow-rule demo's template: that rule now only
assigns round robin, so nothing is answered twice). A week of its sent responses, each with its e-mail on the
lead's timeline, so an admin sees what it does on the first visit.

Idempotent: the responder is found by name, sent rows by their record (one per record, ever). The demo's own
leads are not answered again when their events are delivered after the seed: a responder ignores events from
before it existed."""
from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

RESPONDER = "Web-form and social-media leads: thanks for your enquiry"
CRITERIA = {"any": [{"field": "source", "op": "equals", "value": "web-form"},
                    {"field": "source", "op": "equals", "value": "social-media"}]}


def seed(context: dict) -> None:
    from crm.automation import autoresponders
    from crm.automation.models_autoresponders import AutoResponder
    from crm.automation.rule_demo import TEMPLATE, VARIANTS
    from crm.mail.models import EmailTemplate
    from crm.mail.services import template_save

    admin = (context.get("users") or {}).get("admin")
    template = EmailTemplate.objects.filter(record_type="leads.lead", name=TEMPLATE).first() or template_save(
        actor=admin, name=TEMPLATE, record_type="leads.lead", variants=VARIANTS,
        description="Automatic answer to a new lead")
    _rule_without_answer(admin, template)
    responder = AutoResponder.objects.filter(name=RESPONDER).first() or autoresponders.autoresponder_save(
        actor=admin, record_type="leads.lead", name=RESPONDER, template=template, criteria=CRITERIA, order=10,
        from_name="Demo sales team", from_email="sales@demo.local")
    _history(responder, template)


def _rule_without_answer(admin, template) -> None:
    """A demo database seeded before auto-responders had the lead rule answer by e-mail too: it keeps only its
    round robin (a new version), so a lead is never answered twice."""
    from crm.automation import rule_services
    from crm.automation.models_rules import WorkflowRule
    from crm.automation.rule_demo import LEAD_RULE

    rule = WorkflowRule.objects.filter(name=LEAD_RULE).select_related("current_version").first()
    version = rule.current_version if rule is not None else None
    if version is None or not any(a.get("kind") == "send_email" for a in version.actions or []):
        return
    actions = [a for a in version.actions if a.get("kind") != "send_email"]
    if not actions:
        return
    rule_services.rule_update(actor=admin, rule=rule, spec={
        "trigger": version.trigger, "trigger_field": version.trigger_field, "offset_amount": version.offset_amount,
        "offset_unit": version.offset_unit, "offset_direction": version.offset_direction,
        "criteria": version.criteria, "actions": actions})


def _history(responder, template) -> None:
    from crm.activities.models import Activity
    from crm.activities.services import activity_create
    from crm.automation.models_autoresponders import AutoResponse
    from crm.mail.services import mail_render, recipient_language
    from leads.models import Lead

    rng, now = random.Random(13), timezone.now()
    content_type = ContentType.objects.get_for_model(Lead)
    leads = list(Lead.objects.filter(source__value__in=["web-form", "social-media"]).select_related("owner")
                 .order_by("pk")[:8])
    done = set(AutoResponse.objects.filter(content_type=content_type, object_id__in=[lead.pk for lead in leads])
               .values_list("object_id", flat=True))
    for lead in leads:
        if lead.pk in done:
            continue
        when = now - timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
        row = AutoResponse(responder=responder, responder_name=responder.name, content_type=content_type,
                           object_id=lead.pk, record_repr=str(lead)[:255], created_at=when, claimed_at=when,
                           finished_at=when + timedelta(seconds=2), to_address=lead.email, attempts=1)
        if not lead.email:
            row.outcome = AutoResponse.Outcome.NO_ADDRESS
            row.save()
            continue
        rendered = mail_render(template=template, record=lead, reader=None, language=recipient_language(lead),
                               sender=None)
        row.outcome, row.language, row.subject = AutoResponse.Outcome.SENT, rendered.language, rendered.subject
        row.save()
        activity = activity_create(target=lead, actor=None, kind=Activity.Kind.EMAIL, subject=rendered.subject,
                                   body=rendered.text, body_html=rendered.html, direction=Activity.Direction.OUTBOUND,
                                   occurred_at=row.finished_at,
                                   data={"sent": True, "to": [lead.email], "cc": [], "template": template.pk,
                                         "language": rendered.language, "auto_response": row.pk,
                                         "auto_responder": responder.pk, "demo": True})
        AutoResponse.objects.filter(pk=row.pk).update(activity_id=activity.pk)
