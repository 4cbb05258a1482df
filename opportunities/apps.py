from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self):
        from crm.core.demo import register_demo

        register_demo("opportunities", "opportunities.demo.seed", after=('accounts', 'leads'))
        # Cache invalidation only: the list's filter panel (pipelines, stages and teams in its selects).
        from django.db.models.signals import post_delete, post_save

        from crm.access.models import Team
        from opportunities import choices_cache
        from opportunities.models import Pipeline, Stage

        for model in (Pipeline, Stage, Team):
            post_save.connect(choices_cache.changed, sender=model, dispatch_uid=f"opportunity-choices-save-{model.__name__}")
            post_delete.connect(choices_cache.changed, sender=model,
                                dispatch_uid=f"opportunity-choices-delete-{model.__name__}")
        # Whoever may not see an amount or a probability may not see what is computed from them either.
        from crm.access.visibility import register_derived_fields

        register_derived_fields("opportunities.opportunity", "amount", ("amount_corporate", "expected_revenue"))
        register_derived_fields("opportunities.opportunity", "probability", ("expected_revenue",))
        from crm.core.schedule import periodic

        # Hourly; the task takes each ISO week's snapshot on its first run of the week and skips the rest.
        periodic("forecast-snapshot", "opportunities.tasks_forecasts.forecast_snapshot_task", every=3600)
        from . import tasks_forecasts  # noqa: F401  (not tasks.py: Celery's autodiscovery would miss it)
        from crm.core.home import register_widget

        from .views_dashboard import home_widget as dashboard_widget

        # The sales dashboard: a manager's home page opens with it (its forecast card replaces the old widget).
        register_widget("opportunities.dashboard", "opportunities/dashboard/_home_widget.html", dashboard_widget,
                        order=5, wide=True)
        from crm.core import records

        from .models import Opportunity
        from .records import LIST, import_spec

        from crm.core.panels import register_panel

        from .panels import account_opportunities, contact_opportunities

        register_panel("accounts.account", "opportunities", "lists/_related.html", account_opportunities, order=20)
        register_panel("accounts.contact", "opportunities", "lists/_related.html", contact_opportunities, order=20)
        # Products on an opportunity (line items), and the currencies section of /settings/.
        from crm.core.settings_sections import register_section

        from .line_items import panel_context as line_items_panel

        register_panel("opportunities.opportunity", "line_items", "opportunities/line_items/panel.html",
                       line_items_panel, order=10)
        register_section("currencies", _("Currencies and exchange rates"), "currency-exchange",
                         "opportunities:currencies", right="manage_customization", order=300)

        # Stage changes are items of the merged (360°) timeline; an account hierarchy rolls up the pipeline.
        from accounts.rollups import register_rollup
        from crm.activities.merged import Source, register_source

        from .panels import open_pipeline, stage_change_items, won_revenue

        register_source(Source("stage_changes", kinds=(("stage_change", _("Stage changes")),),
                               fetch=stage_change_items, order=20))
        register_rollup("open_pipeline", _("Open pipeline"), open_pipeline, kind="money", order=10)
        register_rollup("won_revenue", _("Won revenue"), won_revenue, kind="money", order=20)
        # Quotes and invoices: the panel on the opportunity's page, Settings → Sales, and the beat tasks that
        # expire quotes and mark invoices overdue (helper C).
        from crm.core.schedule import periodic as periodic_task

        from .quotes import panel_context as quotes_panel

        register_panel("opportunities.opportunity", "quotes", "opportunities/quotes/panel.html", quotes_panel,
                       order=15)
        register_section("sales", _("Sales: quotes and invoices"), "receipt", "opportunities:sales_settings",
                         right="manage_customization", order=270)
        # Quotes can be sent for approval (the approval engine finds, shows and answers them through this).
        from crm.core.approvables import register_approvable

        from . import quotes as quote_services

        register_approvable(
            "opportunities.quote", quote_services.Quote, label=_("Quote"),
            fields=("name", "status", "currency", "discount_percent", "tax_percent", "subtotal", "total", "valid_until"),
            visible=quote_services.visible_quotes, url=quote_services.quote_url, timeline=lambda quote: quote.opportunity,
            submitted_event="quote.approval_requested", recalled_event="quote.withdrawn",
            decided=quote_services.approval_decided, recalled=quote_services.approval_recalled)
        periodic_task("quotes-expire", "opportunities.tasks.quotes_expire_task", every=3600)
        periodic_task("invoices-overdue", "opportunities.tasks.invoices_overdue_task", every=3600)
        # Pipelines and their stages are set up under /settings/ (helper A).
        from crm.core.settings_sections import register_section

        register_section("pipelines", _("Pipelines and stages"), "kanban", "opportunities:setup_pipelines",
                         right="manage_customization", order=260)
        records.register(Opportunity, slug="opportunities", list=LIST, imports=import_spec(), list_url_name="opportunities:list", detail_url_name="opportunities:detail",
                         create_url_name="opportunities:create",
                         icon="graph-up-arrow", search_fields=("name",),
                         fields=("name", "account", "pipeline", "stage", "amount", "currency", "probability",
                                 "close_date", "owner"), nav_order=40)
