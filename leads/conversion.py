"""Turning a lead into customer records, and merging two leads into one.
Both run in one transaction: any failure leaves nothing behind."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.activities.services import activities_move, activity_log
from crm.core.events import emit
from crm.customization.fields import by_key
from leads.models import Lead, LifecycleStage, LifecycleTransition
from leads.services import _keys, _snapshot, lead_delete, lead_update, normalize_email, normalize_phone


class ConversionRefused(Exception):
    """The lead cannot be converted; the message says why."""


@dataclass
class Conversion:
    account: object
    contact: object
    opportunity: object | None


def _copy_custom(lead: Lead, record_type: str) -> dict:
    """Custom values of the lead whose field name also exists on the target record type."""
    targets = {cf.name for cf in by_key(record_type).values()}
    return {k: v for k, v in (lead.custom or {}).items() if k in targets}


@transaction.atomic
def lead_convert(*, actor, lead: Lead, account=None, account_name: str = "", contact=None,
                 create_opportunity: bool = False, opportunity_name: str = "", amount=None, close_date=None,
                 stage=None, owner=None) -> Conversion:
    """Create (or link) the account and contact, optionally an opportunity; move the lead's
    activities and campaign touches onto them; make the lead read-only, pointing at them."""
    from accounts.models import Account, Contact, ContactRole
    from campaigns.models import Touch
    from leads.qualification import progress
    from opportunities.models import Opportunity, Stage, StageChange

    lead = Lead.objects.select_for_update(of=("self",)).select_related("source", "owner").get(pk=lead.pk)
    if lead.is_converted:
        raise ConversionRefused(_("This lead is already converted."))
    if lead.lifecycle_stage == LifecycleStage.UNQUALIFIED:
        raise ConversionRefused(_("An unqualified lead cannot be converted. Move it back to a stage first."))
    missing = progress(lead).missing_for_conversion
    if missing:
        raise ConversionRefused(_("Qualification missing for conversion: %(items)s.")
                                % {"items": ", ".join(str(i.criterion.label) for i in missing)})
    owner = owner or lead.owner or actor
    now = timezone.now()

    if account is None:
        account = Account(
            name=(account_name or lead.company or lead.full_name).strip(), industry=lead.industry,
            website=lead.website, phone=lead.phone, billing_street=lead.street, billing_city=lead.city,
            billing_state=lead.state, billing_postal_code=lead.postal_code, billing_country=lead.country,
            employees=lead.employees, annual_revenue=lead.annual_revenue, rating=lead.rating,
            description=lead.description, owner=owner, created_by=actor, custom=_copy_custom(lead, "accounts.account"),
        )
        account._history_user = actor
        account.full_clean()
        account.save()
        emit("account.created", account, actor=actor, data={"from_lead": lead.pk})
    if contact is None:
        contact = Contact(
            first_name=lead.first_name, last_name=lead.last_name, title=lead.title, account=account,
            email=lead.email, phone=lead.phone, mobile=lead.mobile, mailing_street=lead.street,
            mailing_city=lead.city, mailing_postal_code=lead.postal_code, mailing_country=lead.country,
            owner=owner, created_by=actor, custom=_copy_custom(lead, "accounts.contact"),
            email_normalized=normalize_email(lead.email), phone_normalized=normalize_phone(lead.phone or lead.mobile, lead.country),
        )
        contact._history_user = actor
        contact.full_clean()
        contact.save()
        emit("contact.created", contact, actor=actor, data={"from_lead": lead.pk})
    elif contact.account_id is None:
        contact.account = account
        contact._history_user = actor
        contact.save(update_fields=["account", "updated_at"])
    role = lead.authority_role or lead.champ_authority
    if role:
        ContactRole.objects.get_or_create(contact=contact, account=account, role=role)

    opportunity = None
    if create_opportunity:
        if stage is None:
            stage = (Stage.objects.filter(pipeline__is_default=True, outcome=Stage.Outcome.OPEN).order_by("order").first()
                     or Stage.objects.filter(outcome=Stage.Outcome.OPEN).order_by("pipeline__order", "order").first())
        if stage is None:
            raise ConversionRefused(_("No sales pipeline with open stages is set up."))
        pipeline = stage.pipeline
        opportunity = Opportunity(
            name=(opportunity_name or f"{account.name}").strip(), account=account, contact=contact, pipeline=pipeline,
            stage=stage, amount=amount, currency=lead.currency, probability=stage.probability, close_date=close_date,
            lead_source=str(lead.source or ""), campaign=lead.last_touch_campaign or lead.first_touch_campaign,
            owner=owner, created_by=actor, custom=_copy_custom(lead, "opportunities.opportunity"),
        )
        opportunity._history_user = actor
        opportunity.full_clean()
        opportunity.save()
        StageChange.objects.create(opportunity=opportunity, to_stage=stage, amount=amount,
                                   probability=stage.probability, actor=actor)
        emit("opportunity.created", opportunity, actor=actor, data={"from_lead": lead.pk})

    activities_move(source=lead, target=contact)
    Touch.objects.filter(lead=lead).update(contact=contact, opportunity=opportunity)

    before = lead.lifecycle_stage
    lead.lifecycle_stage = LifecycleStage.CONVERTED
    lead.converted_at, lead.converted_by = now, actor
    lead.converted_account, lead.converted_contact, lead.converted_opportunity = account, contact, opportunity
    lead._history_user = actor
    lead.save()
    LifecycleTransition.objects.create(lead=lead, from_stage=before, to_stage=LifecycleStage.CONVERTED, actor=actor)
    activity_log(target=account, verb="converted_from_lead", actor=actor,
                 subject=_("Converted from lead %(name)s") % {"name": lead}, data={"lead": lead.pk})
    emit("lead.converted", lead, actor=actor, data={
        "account": account.pk, "contact": contact.pk, "opportunity": opportunity.pk if opportunity else None})
    return Conversion(account, contact, opportunity)


# Fields a merge lets the user pick from either lead.
MERGE_FIELDS = ["first_name", "last_name", "company", "title", "email", "phone", "mobile", "website", "street", "city",
                "state", "postal_code", "country", "industry", "employees", "annual_revenue", "currency", "description",
                "competitors", "objections", "rating", "source", "status", "owner", "budget_confirmed",
                "budget_amount", "authority_role", "need_pain_points", "need_requirements", "need_desired_outcome",
                "timeline_urgency", "timeline_timeframe", "champ_challenges", "champ_authority", "champ_money",
                "champ_prioritization"]


@transaction.atomic
def lead_merge(*, actor, survivor: Lead, other: Lead, take_from_other: set[str]) -> Lead:
    """Merge `other` into `survivor`: the fields named in `take_from_other` (model names or
    cf_<name>) come from `other`; its activities, campaign touches, lifecycle transitions and
    field history move to the survivor; then `other` is deleted."""
    from campaigns.models import Touch

    survivor, other = (Lead.objects.select_for_update().get(pk=pk) for pk in (survivor.pk, other.pk))
    if survivor.is_converted or other.is_converted:
        raise ConversionRefused(_("Converted leads cannot be merged."))
    if survivor.pk == other.pk:
        raise ConversionRefused(_("Pick two different leads."))
    before = _snapshot(survivor)
    for name in take_from_other:
        if name.startswith("cf_"):
            key = name[3:]
            custom = dict(survivor.custom or {})
            if key in (other.custom or {}):
                custom[key] = other.custom[key]
            else:
                custom.pop(key, None)
            survivor.custom = custom
        elif name in MERGE_FIELDS:
            field = Lead._meta.get_field(name)
            setattr(survivor, field.attname, getattr(other, field.attname))
    # Attribution: the earlier first touch and the later last touch win.
    touches = Touch.objects.filter(lead__in=[survivor, other]).order_by("touched_at", "id")
    first, last = touches.first(), touches.last()
    if first:
        survivor.first_touch_campaign_id, survivor.last_touch_campaign_id = first.campaign_id, last.campaign_id
    survivor.score = max(survivor.score, other.score)
    _keys(survivor)
    lead_update(actor=actor, lead=survivor, before=before)

    moved = activities_move(source=other, target=survivor)
    Touch.objects.filter(lead=other).update(lead=survivor)
    LifecycleTransition.objects.filter(lead=other).update(lead=survivor)
    survivor.history.model.objects.filter(id=other.pk).update(id=survivor.pk, history_change_reason=f"merged:{other.pk}")
    activity_log(target=survivor, verb="merged", actor=actor,
                 subject=_("Merged with lead %(name)s (#%(id)s)") % {"name": other, "id": other.pk},
                 data={"merged": other.pk, "fields": sorted(take_from_other), "activities": moved})
    emit("lead.merged", survivor, actor=actor, data={"merged": other.pk})
    lead_delete(actor=actor, lead=other)
    return survivor
