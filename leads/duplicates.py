"""Possible duplicates of a lead: the same normalized email or phone, or a
similar company and last name (PostgreSQL pg_trgm similarity)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db import OperationalError, connection, transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from leads.models import Lead
from leads.services import normalize_email, normalize_phone

SIMILARITY = 0.5
LIMIT = 10
logger = logging.getLogger(__name__)


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
        for lead in _similar(qs, company, last_name):
            add(lead, _("similar company and name"))
    return sorted(found.values(), key=lambda m: -len(m.reasons))[:LIMIT]


def find_for(lead: Lead, queryset=None) -> list[Match]:
    return find(email=lead.email, phone=lead.phone, mobile=lead.mobile, country=lead.country, company=lead.company,
                last_name=lead.last_name, exclude_pk=lead.pk, queryset=queryset)


def _similar(qs, company: str, last_name: str) -> list[Lead]:
    """Leads with a similar company and last name, most similar first.

    Both `%` conditions are served by their trigram indexes, which PostgreSQL combines (BitmapAnd); the
    `%` threshold is raised to SIMILARITY for this query so the indexes prune as much as they can. Very
    common words ("Oy", "Group") in a very large table can still make the search slow, so it is bounded
    by DUPLICATE_SEARCH_TIMEOUT_MS: past that, no similar-name matches are offered (email and phone
    matches still are) rather than holding the page up."""
    query = (qs.annotate(upper_company=Upper("company"), upper_last_name=Upper("last_name"))
             .filter(upper_company__trigram_similar=company.upper(), upper_last_name__trigram_similar=last_name.upper())
             .annotate(c=TrigramSimilarity(Upper("company"), company.upper()),
                       n=TrigramSimilarity(Upper("last_name"), last_name.upper()))
             .filter(c__gte=SIMILARITY, n__gte=SIMILARITY).order_by("-c", "-n")[:LIMIT])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pg_trgm.similarity_threshold', true), current_setting('statement_timeout')")
        threshold, timeout = cursor.fetchone()
        local = "SELECT set_config('pg_trgm.similarity_threshold', %s, true), set_config('statement_timeout', %s, true)"
        cursor.execute(local, [str(SIMILARITY), f"{settings.DUPLICATE_SEARCH_TIMEOUT_MS}ms"])
        try:
            with transaction.atomic():
                return list(query)
        except OperationalError:
            logger.warning("Similar-lead search for %r / %r cancelled after %s ms", company, last_name,
                           settings.DUPLICATE_SEARCH_TIMEOUT_MS)
            return []
        finally:
            cursor.execute(local, [threshold or "0.3", timeout])
