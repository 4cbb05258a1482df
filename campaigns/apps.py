from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from crm.core import records

        from .models import Campaign

        records.register(Campaign, list_url_name="campaigns:list", detail_url_name="campaigns:detail",
                         icon="megaphone", search_fields=("name",),
                         fields=("name", "campaign_type", "status", "start_date", "end_date", "budget", "actual_cost", "owner"),
                         nav_order=70)
