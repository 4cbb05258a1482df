"""Possible duplicates of a lead: the same normalized email or phone, or a
similar company and last name (PostgreSQL pg_trgm similarity)."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from leads.models import Lead
from leads.services import normalize_email, normalize_phone

SIMILARITY = 0.5
LIMIT = 10


@dataclass
class Match:
    lead: Lead
    reasons: list[str]


def find(*, email: str = "", phone: str = "", mobile: str = "", country: str = "", company: str = "",
         last_name: str = "", exclude_pk=None, queryset=None) -> list[Match]:
    """Leads that may be the same person, strongest evidence first."""
    qs = (queryset if queryset is not None else Lead.objects.all()).select_related("owner", "status")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    email_key = normalize_email(email)
    phone_keys = {k for k in (normalize_phone(phone, country), normalize_phone(mobile, country)) if k}
    found: dict[int, Match] = {}

    def add(lead, reason):
        found.setdefault(lead.pk, Match(lead, [])).reasons.append(reason)

    if email_key:
        for lead in qs.filter(email_normalized=email_key)[:LIMIT]:
            add(lead, _("same email"))
    if phone_keys:
        for lead in qs.filter(phone_normalized__in=phone_keys)[:LIMIT]:
            add(lead, _("same phone"))
    if company.strip() and last_name.strip():
        similar = (qs.annotate(upper_company=Upper("company"))
                   .filter(upper_company__trigram_similar=company.upper())  # served by the trigram index
                   .annotate(c=TrigramSimilarity(Upper("company"), company.upper()),
                             n=TrigramSimilarity(Upper("last_name"), last_name.upper()))
                   .filter(c__gte=SIMILARITY, n__gte=SIMILARITY).order_by("-c", "-n")[:LIMIT])
        for lead in similar:
            add(lead, _("similar company and name"))
    return sorted(found.values(), key=lambda m: -len(m.reasons))[:LIMIT]


def find_for(lead: Lead, queryset=None) -> list[Match]:
    return find(email=lead.email, phone=lead.phone, mobile=lead.mobile, country=lead.country, company=lead.company,
                last_name=lead.last_name, exclude_pk=lead.pk, queryset=queryset)
