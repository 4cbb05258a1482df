from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from crm.core import records

        from .models import Lead

        records.register(
            Lead,
            list_url_name="leads:list",
            detail_url_name="leads:detail",
            icon="person-plus",
            search_fields=("first_name", "last_name", "company", "email"),
            fields=(
                "first_name", "last_name", "company", "title", "email", "phone", "mobile", "website",
                "street", "city", "state", "postal_code", "country", "industry", "employees",
                "annual_revenue", "currency", "description", "competitors", "objections", "rating",
                "source", "status", "lifecycle_stage", "unqualified_reason", "owner", "score",
                "budget_confirmed", "budget_amount", "authority_role", "need_pain_points",
                "need_requirements", "need_desired_outcome", "timeline_urgency", "timeline_timeframe",
                "champ_challenges", "champ_authority", "champ_money", "champ_prioritization",
                "first_touch_campaign", "last_touch_campaign", "created_at",
            ),
            nav_order=10,
        )
