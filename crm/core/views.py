"""Home page, global search, and the admins' page of event deliveries."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.access.models import AuditLog
from crm.access.services import audit
from crm.access.settings_views import render_settings, right_required
from crm.core.middleware import client_ip

from crm.activities.views import my_day_context
from crm.core import home as home_widgets
from crm.core.selectors import global_search, recent_records


@login_required
def home(request):
    return render(request, "core/home.html", {
        "my_day": my_day_context(request),
        "recent": recent_records(user=request.user),
        "widgets": home_widgets.widgets_for(request),
    })


@login_required
def search(request):
    query = request.GET.get("q", "")
    return render(request, "core/search.html", {"q": query, "groups": global_search(user=request.user, query=query)})


# --- /settings/events/: the outbox's health, failed deliveries, retry and replay ---------------------------

def _events_context(request, form):
    from crm.core import events
    from crm.core.models import EventDelivery

    failures = (EventDelivery.objects.exclude(status=EventDelivery.Status.DONE).select_related("event")
                .order_by("-updated_at")[:100])
    return {"health": events.health(), "failures": failures, "replay_form": form,
            "subscribers": sorted(s.name for s in events.subscribers())}


@right_required("view_audit_log")
def events_page(request):
    from crm.core import events
    from crm.core.forms import EventReplayForm

    form = EventReplayForm(request.POST or None, subscribers=[s.name for s in events.subscribers()])
    if request.method == "POST" and form.is_valid():
        count = events.replay(subscriber=form.cleaned_data["subscriber"], since=form.since_start(), until=form.until_end())
        audit(actor=request.user, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target_type="core.event",
              ip=client_ip(request), data={"replay": form.cleaned_data["subscriber"], "events": count,
                                           "since": str(form.cleaned_data["since"]),
                                           "until": str(form.cleaned_data["until"])})
        messages.success(request, ngettext("%(count)s event delivered again to %(subscriber)s.",
                                           "%(count)s events delivered again to %(subscriber)s.", count) % {
            "count": count, "subscriber": form.cleaned_data["subscriber"]})
        return redirect("core:events")
    return render_settings(request, "core/events.html", _events_context(request, form), section="events")


@right_required("view_audit_log")
@require_POST
def event_retry(request, pk: int):
    """Try a failed (or given-up) delivery again at once."""
    from django.utils import timezone

    from crm.core.models import EventDelivery
    from crm.core.tasks import events_sweep_task

    delivery = get_object_or_404(EventDelivery, pk=pk)
    EventDelivery.objects.filter(pk=delivery.pk).update(status=EventDelivery.Status.FAILED,
                                                         next_attempt_at=timezone.now())
    transaction.on_commit(lambda: events_sweep_task.delay(), robust=True)
    messages.info(request, _("The delivery will be tried again in a moment."))
    return redirect("core:events")
