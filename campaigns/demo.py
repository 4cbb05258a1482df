"""Demo campaigns: a trade show, a Persian webinar and a newsletter, that demo leads were touched by; the
marketer's shared segments (customers in Finland, CTOs and CIOs, contacts opted in to e-mail, hot leads in
the Nordics); and a sharing rule that lets Marketing read the sales records its segments are made of."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone


def seed(context: dict) -> None:
    from campaigns.models import Campaign

    users = context["users"]
    campaigns = []
    for name, kind in (("Helsinki Tech Expo 2026", "trade_show"), ("وبینار تحول دیجیتال", "webinar"),
                       ("Spring newsletter", "email")):
        campaign, _ = Campaign.objects.get_or_create(
            name=name, defaults=dict(campaign_type=kind, status="active", owner=users["marketer"],
                                     start_date=timezone.localdate() - timedelta(days=40),
                                     budget=Decimal("5000"), actual_cost=Decimal("3200")))
        campaigns.append(campaign)

    context["campaigns"] = campaigns
    _marketing_reads_sales_records(users["marketer"])
    _segments(users["marketer"])


def _marketing_reads_sales_records(marketer) -> None:
    """Leads, contacts and accounts are private in the demo; marketing reads all of them and works the leads,
    as in most companies, so the marketer's segments count what the company has."""
    from crm.access.models import SharingRule
    from crm.access.services import sharing_rule_save
    from crm.core import records

    top = marketer.role
    while top is not None and top.parent_id is not None:
        top = top.parent
    if marketer.role is None or top is None:
        return
    known = {rt.key for rt in records.all_types()}
    for record_type in ("leads.lead", "accounts.contact", "accounts.account"):
        name = "Sales records readable by Marketing"
        if record_type not in known or SharingRule.objects.filter(name=name, record_type=record_type).exists():
            continue
        sharing_rule_save(actor=None, name=name, record_type=record_type, kind=SharingRule.Kind.OWNER,
                          source_role=top, source_include_subordinates=True, target_kind=SharingRule.Target.ROLE,
                          target_role=marketer.role, is_active=True,
                          # Marketing works the leads (nurture, campaigns); the customers it only reads.
                          access_level=SharingRule.Level.READ_WRITE if record_type == "leads.lead"
                          else SharingRule.Level.READ)


def _opted_in(fields: dict) -> dict | None:
    """Contacts who may be e-mailed, by whichever consent field contacts have."""
    if "email_opt_in" in fields:
        return {"all": [{"field": "email_opt_in", "op": "equals", "value": "true"},
                        {"field": "email", "op": "is_not_empty"}]}
    if "email_opt_out" in fields:
        return {"all": [{"field": "email_opt_out", "op": "equals", "value": "false"},
                        {"field": "email", "op": "is_not_empty"}]}
    return None


def _segments(owner) -> None:
    from campaigns.models import Segment
    from campaigns.selectors import segment_fields, segment_types
    from campaigns.services import segment_create

    offered = {rt.key for rt in segment_types()}
    wanted = [
        ("Customers in Finland", "accounts.account", "Customer accounts billed in Finland.",
         {"all": [{"field": "account_type", "op": "equals", "value": "customer"},
                  {"field": "billing_country", "op": "equals", "value": "FI"}]}),
        ("CTOs and CIOs", "accounts.contact", "Technology and information leaders, for the tech expo invitations.",
         {"any": [{"field": "title", "op": "contains", "value": "CTO"},
                  {"field": "title", "op": "contains", "value": "CIO"},
                  {"field": "title", "op": "contains", "value": "Chief Technology"},
                  {"field": "title", "op": "contains", "value": "Chief Information"}]}),
        ("Hot leads in the Nordics", "leads.lead", "Hot leads in Finland, Sweden, Norway, Denmark and Iceland "
         "that are still open, for the expo follow-up.",
         {"all": [{"field": "rating", "op": "equals", "value": "hot"},
                  {"field": "country", "op": "in", "value": "FI, SE, NO, DK, IS"},
                  {"field": "lifecycle_stage", "op": "not_equals", "value": "converted"}]}),
    ]
    if "accounts.contact" in offered:
        opted_in = _opted_in(segment_fields("accounts.contact"))
        if opted_in is not None:
            wanted.append(("Opted in to e-mail", "accounts.contact",
                           "Contacts with an e-mail address who agreed to receive e-mail.", opted_in))
    for name, record_type, description, condition in wanted:
        if record_type not in offered or Segment.objects.filter(name=name, record_type=record_type).exists():
            continue
        segment_create(actor=owner, name=name, record_type=record_type, conditions=condition,
                       description=description, shared=True)
