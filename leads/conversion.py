"""Turning a lead into customer records: an account, a contact and optionally an opportunity, created or linked
through their apps' services, in one transaction (any failure leaves nothing behind). Merging leads is the
shared merge (crm.core.merge) with the leads' MergeSpec."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.activities.services import activities_move, activity_log
from crm.core.events import emit
from crm.customization.fields import by_key
from leads.models import Lead, LifecycleStage, LifecycleTransition


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
    from accounts.services import account_create, contact_account_set, contact_create, contact_role_add
    from leads.qualification import progress
    from opportunities.services import default_open_stage, opportunity_create

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
        account = account_create(
            actor=actor, data={"from_lead": lead.pk}, name=(account_name or lead.company or lead.full_name).strip(), industry=lead.industry,
            website=lead.website, phone=lead.phone, billing_street=lead.street, billing_city=lead.city,
            billing_state=lead.state, billing_postal_code=lead.postal_code, billing_country=lead.country,
            employees=lead.employees, annual_revenue=lead.annual_revenue, rating=lead.rating,
            description=lead.description, owner=owner, custom=_copy_custom(lead, "accounts.account"))
    if contact is None:
        contact = contact_create(
            actor=actor, data={"from_lead": lead.pk}, first_name=lead.first_name, last_name=lead.last_name, title=lead.title, account=account,
            email=lead.email, phone=lead.phone, mobile=lead.mobile, mailing_street=lead.street,
            mailing_city=lead.city, mailing_postal_code=lead.postal_code, mailing_country=lead.country,
            owner=owner, custom=_copy_custom(lead, "accounts.contact"))
    elif contact.account_id is None:
        contact_account_set(actor=actor, contact=contact, account=account)
    role = lead.authority_role or lead.champ_authority
    if role:
        contact_role_add(contact=contact, account=account, role=role)

    opportunity = None
    if create_opportunity:
        stage = stage or default_open_stage()
        if stage is None:
            raise ConversionRefused(_("No sales pipeline with open stages is set up."))
        opportunity = opportunity_create(
            actor=actor, data={"from_lead": lead.pk}, name=(opportunity_name or f"{account.name}").strip(), account=account, contact=contact,
            pipeline=stage.pipeline, stage=stage, amount=amount, currency=lead.currency, probability=stage.probability,
            close_date=close_date, lead_source=str(lead.source or ""),
            campaign=lead.last_touch_campaign or lead.first_touch_campaign, owner=owner,
            custom=_copy_custom(lead, "opportunities.opportunity"))

    from campaigns.services import touches_move

    activities_move(source=lead, target=contact)
    touches_move(source=lead, target=contact, opportunity=opportunity)

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
