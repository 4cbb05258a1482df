from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from crm.core.demo import register_demo

        register_demo("campaigns", "campaigns.demo.seed", after=("access",))
        from crm.core import records

        from .models import Campaign

        records.register(Campaign, list_url_name="campaigns:list", detail_url_name="campaigns:detail",
                         icon="megaphone", search_fields=("name",),
                         fields=("name", "campaign_type", "status", "start_date", "end_date", "budget", "actual_cost", "owner"),
                         nav_order=70)

        from crm.lists.spec import BulkAction, register_bulk_action
        from django.apps import apps as django_apps

        from .models import CAMPAIGN_MEMBER_TYPES

        for record_type in CAMPAIGN_MEMBER_TYPES:
            model = django_apps.get_model(record_type)
            register_bulk_action(record_type, BulkAction(
                "campaign", _("Add to campaign"), _add_to_campaign(model), done=_("Added to %(value)s: %(count)s."),
                choices=_campaign_choices, prompt=_("Campaign…")))

        # "Segment" on the lists of the types segments are built over: /contacts/?segment=12 lists its members.
        from functools import partial

        from crm.lists.spec import register_filter

        from .filters import segment_filter
        from .models import SEGMENT_TYPES

        for record_type in SEGMENT_TYPES:
            register_filter(record_type, "segment", partial(segment_filter, record_type))


def _campaign_choices(user):
    from .selectors import open_campaigns

    return list(open_campaigns(user=user).values_list("pk", "name"))


def _add_to_campaign(model):
    def run(*, actor, ids, value):
        from .selectors import open_campaigns
        from .services import campaign_add

        return campaign_add(actor=actor, campaign=open_campaigns(user=actor).get(pk=value), model=model, ids=ids)
    return run
