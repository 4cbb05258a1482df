"""Forecast, drill-down, quotas, snapshots and "what moved": thin views over opportunities.forecasts."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.models import Role, User
from crm.core.formatting import format_date, format_money, format_number, ltr
from crm.core.urls_safe import safe_next
from opportunities import forecasts
from opportunities.forms_forecasts import ForecastAdjustmentForm, QuotaGridForm
from opportunities.models import ForecastSnapshot, Opportunity, PeriodKind, Quota
from opportunities.views_analytics import require_view


def _period_links(view: str, kind: str, start) -> dict:
    def url(k, s):
        return f"{reverse(view)}?{urlencode({'kind': k, 'start': s.isoformat()})}"

    today = timezone.localdate()
    # Switching between month and quarter keeps today when the shown period holds it (this quarter → this
    # month), else the period's start (last quarter → its first month).
    anchor = today if start <= today < forecasts.period_end(start, kind) else start
    return {"previous_url": url(kind, forecasts.shift(start, kind, -1)),
            "next_url": url(kind, forecasts.shift(start, kind, 1)),
            "current_url": url(kind, forecasts.period_start(today, kind)),
            "kind_urls": [(value, label, url(value, forecasts.period_start(anchor, value)))
                          for value, label in PeriodKind.choices]}


# The forecast's number columns: (category, the figure's amount, its count of deals).
CELLS = (("won", "won", "won_n"), ("commit", "commit", "commit_n"), ("best_case", "best_case", "best_case_n"),
         ("pipeline", "pipeline", "pipeline_n"), ("open", "weighted", "open_n"),
         ("rep_commit", "rep_commit", "rep_commit_n"), ("rep_best_case", "rep_best_case", "rep_best_case_n"))


def _cells(figures, query: str, *, link: str, amounts_hidden: bool) -> SafeString:
    """A row's number cells, each linking to its deals: the markup the template wrote with an include per cell
    (about 0.1 ms each, 90 on a manager's forecast), every value escaped."""
    parts = []
    for category, amount_name, n_name in CELLS:
        if category == "open" and amounts_hidden:
            parts.append("")  # no weighted pipeline where amounts are hidden
            continue
        n = escape(format_number(getattr(figures, n_name)))
        if amounts_hidden:
            text = n
        else:
            text = f'{ltr(ltr(format_money(getattr(figures, amount_name), "")))} <span class="text-muted small">({n})</span>'
        parts.append(f'<td class="text-end text-nowrap"><a href="{link}&amp;category={category}'
                     f'{"&amp;" + escape(query) if query else ""}" data-category="{category}">{text}</a></td>\n')
    return mark_safe("\n    ".join(parts))


@login_required
def forecast(request):
    user = request.user
    require_view(user)
    kind, start = forecasts.parse_period(request.GET.get("kind"), request.GET.get("start"))
    result = forecasts.forecast(user, kind, start)
    hidden = forecasts.amounts_hidden(user)
    link = f'{escape(reverse("opportunities:forecast_deals"))}?kind={escape(kind)}&amp;start={start.isoformat()}'
    for row in result.rows:
        row.cells = _cells(row.figures, row.query, link=link, amounts_hidden=hidden)
    return render(request, "opportunities/forecasts/forecast.html", {
        "forecast": result, "kind": kind, "start": start, "amounts_hidden": hidden,
        "total_cells": _cells(result.total, "", link=link, amounts_hidden=hidden),
        "can_set_quotas": forecasts.managed_users(user).exists(), "section": "forecast",
        "deals_url": reverse("opportunities:forecast_deals"),
        **_period_links("opportunities:forecast", kind, start),
    })


@login_required
def forecast_deals(request):
    """The deals behind one number of the forecast."""
    user = request.user
    require_view(user)
    kind, start = forecasts.parse_period(request.GET.get("kind"), request.GET.get("start"))
    category = request.GET.get("category") or None
    owner_id = _int(request.GET.get("owner"))
    role_id = _int(request.GET.get("role"))
    owner = User.objects.filter(pk=owner_id).first() if owner_id else None
    role = Role.objects.filter(pk=role_id).first() if role_id and not owner_id else None
    qs = forecasts.drilldown(user, kind, start, category=category, owner_id=owner_id, role_id=role_id,
                             others=request.GET.get("others") == "1")
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    callable_ids = _call_editable_ids(user, [o.pk for o in page.object_list if not o.is_closed])
    for o in page.object_list:
        o.call_editable = o.pk in callable_ids
    end = forecasts.period_end(start, kind)
    list_params = {"close_date_after": start.isoformat(),
                   "close_date_before": (end - dt.timedelta(days=1)).isoformat()}
    if owner_id:
        list_params["owner"] = owner_id
    if category in ("commit", "best_case", "pipeline", "open"):
        list_params["open"] = "1"
    labels = {"won": _("Closed won"), "commit": _("Commit"), "best_case": _("Best case"), "pipeline": _("Pipeline"),
              "open": _("Open deals"), "rep_commit": _("Rep's commit call"),
              "rep_best_case": _("Rep's best-case call")}
    return render(request, "opportunities/forecasts/deals.html", {
        "page": page, "kind": kind, "start": start, "period_label": forecasts.period_label(start, kind),
        "category_label": labels.get(category, _("All deals")), "owner": owner, "role": role,
        "amounts_hidden": forecasts.amounts_hidden(user), "section": "forecast",
        "list_url": f"{reverse('opportunities:list')}?{urlencode(list_params)}",
        "back_url": f"{reverse('opportunities:forecast')}?{urlencode({'kind': kind, 'start': start.isoformat()})}",
        "query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
    })


def _call_editable_ids(user, ids: list[int]) -> set[int]:
    """Which of these open deals' forecast category `user` may override: the deals they may edit, unless their
    profile makes the field read-only or hidden (one query)."""
    from crm.access.fls import hidden_fields, readonly_fields

    if not ids or not user.can(forecasts.RT, "edit") or "forecast_override" in (
            readonly_fields(user, forecasts.RT) | hidden_fields(user, forecasts.RT)):
        return set()
    return set(Opportunity.objects.visible_to(user, "edit").filter(pk__in=ids).values_list("pk", flat=True))


@login_required
def forecast_call(request, pk):
    """The rep's call on one deal (its forecast category override): shown, and saved from its select (htmx,
    the drill-down and the deal's page); a plain POST goes back to `next`."""
    from django.core.exceptions import ValidationError
    from django.shortcuts import get_object_or_404

    from opportunities import services

    user = request.user
    require_view(user)
    deal = get_object_or_404(Opportunity.objects.visible_to(user).select_related("stage"), pk=pk)
    if "forecast_override" in forecasts.hidden_fields(user, forecasts.RT):
        raise Http404
    editable = not deal.is_closed and deal.pk in _call_editable_ids(user, [deal.pk])
    context = {"deal": deal, "editable": editable}
    if request.method == "POST":
        if not editable:
            raise Http404
        category = request.POST.get("forecast_override") or None
        try:
            services.opportunity_forecast_override(actor=user, opportunity=deal, category=category)
        except ValidationError as exc:
            deal = Opportunity.objects.select_related("stage").get(pk=pk)
            context.update(deal=deal, error=" ".join(exc.messages))
            if not request.htmx:
                messages.error(request, context["error"])
        else:
            context.update(deal=Opportunity.objects.select_related("stage").get(pk=pk), saved=True)
        if not request.htmx:
            return redirect(safe_next(request, reverse("opportunities:detail", args=[pk])))
    return render(request, "opportunities/forecasts/_call.html", context)


@login_required
def forecast_person(request, user_id):
    """One person's forecast for a period: the stage-weighted figure and the rep's call, the manager's current
    call with every earlier adjustment, and the form to adjust it. Only for the people the reader may adjust
    (404 for anyone else)."""
    from django.core.exceptions import ValidationError
    from django.shortcuts import get_object_or_404

    user = request.user
    require_view(user)
    subject = get_object_or_404(User.objects.select_related("role"), pk=user_id)
    if not forecasts.may_adjust(user, subject) or forecasts.amounts_hidden(user):
        raise Http404
    kind, start = forecasts.parse_period(request.GET.get("kind"), request.GET.get("start"))
    here = f"{reverse('opportunities:forecast_person', args=[subject.pk])}?{urlencode({'kind': kind, 'start': start.isoformat()})}"
    form = ForecastAdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            forecasts.forecast_adjust(actor=user, subject=subject, period_kind=kind, period_start=start,
                                      amount=form.cleaned_data["amount"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            from crm.core.forms import errors_to_form

            errors_to_form(form, exc)
        else:
            messages.success(request, _("Your call on %(person)s's forecast for %(period)s is saved.") % {
                "person": subject, "period": forecasts.period_label(start, kind)})
            return redirect(here)
    figures = forecasts.person_figures(user, subject, kind, start)
    return render(request, "opportunities/forecasts/person.html", {
        "subject": subject, "figures": figures, "history": forecasts.adjustment_history(kind, start, subject),
        "form": form, "kind": kind, "start": start, "period_label": forecasts.period_label(start, kind),
        "section": "forecast", "deals_url": reverse("opportunities:forecast_deals"),
        "back_url": f"{reverse('opportunities:forecast')}?{urlencode({'kind': kind, 'start': start.isoformat()})}",
    }, status=422 if request.method == "POST" else 200)


def _int(value):
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


@login_required
def quotas(request):
    user = request.user
    require_view(user)
    users = list(forecasts.managed_users(user))
    if not users:
        raise Http404
    kind, start = forecasts.parse_period(request.GET.get("kind"), request.GET.get("start"))
    initial = dict(Quota.objects.filter(period_kind=kind, period_start=start, user__in=users)
                   .values_list("user_id", "amount"))
    form = QuotaGridForm(request.POST or None, users=users, initial_amounts=initial)
    if request.method == "POST" and form.is_valid():
        forecasts.quotas_set(actor=user, period_kind=kind, period_start=start, amounts=form.amounts())
        messages.success(request, _("Quotas for %(period)s saved.") % {"period": forecasts.period_label(start, kind)})
        return redirect(f"{reverse('opportunities:quotas')}?{urlencode({'kind': kind, 'start': start.isoformat()})}")
    return render(request, "opportunities/forecasts/quotas.html", {
        "form": form, "kind": kind, "start": start, "period_label": forecasts.period_label(start, kind),
        "section": "quotas", **_period_links("opportunities:quotas", kind, start),
    })


def _default_before(snapshots: list[ForecastSnapshot]) -> ForecastSnapshot | None:
    this_week = forecasts.week_of(timezone.localdate())
    earlier = [s for s in snapshots if s.week < this_week]
    return earlier[0] if earlier else (snapshots[-1] if snapshots else None)


@login_required
def what_moved(request):
    user = request.user
    require_view(user)
    snapshots = list(ForecastSnapshot.objects.order_by("-week"))
    kind = request.GET.get("kind") if request.GET.get("kind") in PeriodKind.values else PeriodKind.MONTH
    by_id = {str(s.pk): s for s in snapshots}
    before = by_id.get(request.GET.get("from")) or _default_before(snapshots)
    after = by_id.get(request.GET.get("to"))
    hidden = forecasts.amounts_hidden(user)
    # A reader who may not see amounts does not see which deals' amounts changed either.
    moved = forecasts.what_moved(user, before, after, kind=kind, with_amounts=not hidden) if before else None
    return render(request, "opportunities/forecasts/what_moved.html", {
        "snapshots": snapshots, "before": before, "after": after, "moved": moved, "kind": kind,
        "kinds": PeriodKind.choices, "amounts_hidden": hidden, "section": "moved",
    })


@login_required
@require_POST
def snapshot_take(request):
    if not request.user.is_crm_admin:
        raise Http404
    snapshot = forecasts.snapshot_take(replace=True)
    messages.success(request, _("Forecast snapshot of the week of %(week)s taken.") % {
        "week": format_date(snapshot.week)})
    return redirect("opportunities:what_moved")
