from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from crm.core.demo import register_demo

        from .models import QualificationPolicy
        from .qualification import qualification_config

        def policy_changed(sender, **kwargs):  # cache invalidation only
            qualification_config.changed()

        post_save.connect(policy_changed, sender=QualificationPolicy, dispatch_uid="qualification-cache-save", weak=False)
        post_delete.connect(policy_changed, sender=QualificationPolicy, dispatch_uid="qualification-cache-delete", weak=False)

        register_demo("leads", "leads.demo.seed", after=('access', 'campaigns'))
        from crm.core import records

        from .models import Lead
        from .records import LIST, duplicate_spec, import_spec, locked, merge_spec

        records.register(
            Lead,
            slug="leads",
            list_url_name="leads:list",
            detail_url_name="leads:detail",
            create_url_name="leads:create",
            list=LIST,
            duplicates=duplicate_spec(),
            imports=import_spec(),
            merge=merge_spec(),
            locked=locked,
            history_exclude=frozenset({"score_breakdown", "score_updated_at", "email_normalized", "phone_normalized"}),
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
        from crm.core.events import subscribe
        from crm.core.schedule import periodic

        subscribe("lead.*", _rescore, name="leads.rescore")
        subscribe("activity.*", _rescore, name="leads.rescore-activity")
        periodic("lead-score-decay", "leads.tasks.lead_score_decay_task", every=3600)

        from crm.core.settings_sections import register_section

        for order, (key, label, icon, url_name) in enumerate([
            ("lead_qualification", _("Lead qualification"), "clipboard-check", "leads:setup_qualification"),
            ("lead_scoring", _("Lead scoring"), "speedometer2", "leads:setup_scoring"),
            ("lead_assignment", _("Lead assignment"), "signpost-split", "leads:setup_assignment"),
            ("web_forms", _("Web-to-lead forms"), "ui-radios", "leads:webform_list"),
        ]):
            register_section(key, label, icon, url_name, right="manage_customization", order=200 + order)

        from crm.core.panels import register_panel

        from .panels import converted_from

        for record_type, field in (("accounts.account", "converted_account"), ("accounts.contact", "converted_contact"),
                                   ("opportunities.opportunity", "converted_opportunity")):
            register_panel(record_type, "converted_from", "leads/_converted_from.html", converted_from(field),
                           placement="header")

        from crm.core.home import register_widget

        register_widget("leads.my_open", "leads/_home_widget.html", _my_open_leads, order=20)


def _my_open_leads(request):
    """Home: the user's open leads, best score first (hidden for users who cannot view leads or own none)."""
    from .models import Lead, LifecycleStage

    if not request.user.can("leads.lead", "view"):
        return None
    qs = Lead.objects.filter(owner=request.user).exclude(
        lifecycle_stage__in=[LifecycleStage.CONVERTED, LifecycleStage.UNQUALIFIED])
    leads = list(qs.order_by("-score", "-id")[:8])
    if not leads:
        return None
    return {"leads": leads, "count": qs.count()}


def _lead_ids_to_rescore(events) -> list[int]:
    """The leads whose score these events may change: any change to a lead or its timeline."""
    from django.contrib.contenttypes.models import ContentType

    from .models import Lead

    lead_type = ContentType.objects.get_for_model(Lead).pk
    return sorted({e.object_id for e in events
                   if e.content_type_id == lead_type and e.name not in ("lead.deleted", "lead.merged")})


def _rescore(event) -> None:
    """Queue a score recomputation on a worker."""
    from .tasks import lead_score_task

    for lead_id in _lead_ids_to_rescore([event]):
        lead_score_task.delay(lead_id)


def _rescore_many(events) -> None:
    """The batch form of _rescore (imports): a worker splits the leads into batches of 500."""
    from .tasks import SCORE_BATCH, lead_score_batch_task, lead_score_many_task

    ids = _lead_ids_to_rescore(events)
    if ids:
        (lead_score_batch_task if len(ids) <= SCORE_BATCH else lead_score_many_task).delay(ids)


_rescore.many = _rescore_many
