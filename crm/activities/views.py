"""Activities on record pages (log, edit, complete without leaving the page), an activity's own page and
invitation, My day, the calendar with drag-and-drop, and the personal calendar feed."""
from __future__ import annotations

import hmac
import smtplib
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from crm.activities import calendar_grid, ics, selectors, services
from crm.activities.forms import EmailForm, form_for
from crm.activities.models import Activity, Attendee, CalendarFeed
from crm.activities.rendering import my_day_rows, timeline_items
from crm.core import records
from crm.core.formatting import format_number
from crm.core.urls_safe import safe_next

FEED_MISS_RATE = "30/10m"


def _target(user, ct_id: int, obj_id: int, action: str = "view"):
    try:
        model = ContentType.objects.get_for_id(ct_id).model_class()
    except ContentType.DoesNotExist:
        raise Http404
    if model is None or not hasattr(model.objects, "visible_to"):
        raise Http404
    try:
        records.for_model(model)  # activities attach to the registered record types only
    except KeyError:
        raise Http404 from None
    return get_object_or_404(model.objects.visible_to(user, action), pk=obj_id)


def _kind_label(kind: str) -> str:
    return str(Activity.Kind(kind).label)


def _saved_message(kind: str) -> str:
    return {"task": _("Task saved."), "call": _("Call saved."), "meeting": _("Meeting saved."),
            "email": _("Email saved."), "note": _("Note saved.")}.get(kind, _("Saved."))


# --- logging from a record page ---------------------------------------------------------------------------------

@login_required
def create(request, ct_id: int, obj_id: int, kind: str):
    """The short form of one kind (GET), and saving it (POST): on a record page through htmx, the timeline
    refreshes in place; without script, a page of its own."""
    if kind not in Activity.Kind.values or kind == Activity.Kind.SYSTEM:
        raise Http404
    target = _target(request.user, ct_id, obj_id, "edit")
    form = form_for(kind, request.POST if request.method == "POST" else None, user=request.user, record=target)
    if request.method == "POST" and form.is_valid():
        saved = _save_new(request, form, target, kind)
        if saved:
            if request.htmx:
                response = render(request, "activities/_created.html", _panel_context(request, target, ct_id))
                response["HX-Trigger"] = "activityCreated"
                return response
            messages.success(request, _saved_message(kind))
            return redirect(target.get_absolute_url())
    context = {"form": form, "kind": kind, "kind_label": _kind_label(kind), "record": target, "ct_id": ct_id,
               "action": request.path}
    if request.htmx:
        response = render(request, "activities/_form.html", context)
        if request.method == "POST":  # back with its errors, into its own slot rather than over the timeline
            response["HX-Retarget"], response["HX-Reswap"] = "#activity-form", "innerHTML"
        return response
    return render(request, "activities/form_page.html", context,
                  status=422 if request.method == "POST" else 200)


def _save_new(request, form, target, kind: str) -> bool:
    """Save a valid form; False (with the reason on the form, nothing written) when sending an e-mail fails."""
    if kind != Activity.Kind.EMAIL:
        services.activity_create(target=target, actor=request.user, kind=kind, attendees=form.attendees(),
                                 **form.service_fields())
        return True
    from crm.mail import services as mail

    data = form.cleaned_data
    if data["mode"] == EmailForm.LOG:
        mail.mail_log(record=target, actor=request.user, subject=data["subject"], body_html=data.get("body_html") or "",
                      direction=data.get("direction") or Activity.Direction.OUTBOUND, to=data.get("to") or "")
        return True
    subject, html, language = data.get("subject") or "", data.get("body_html") or "", ""
    template = form.chosen_template
    try:
        if template is not None and not (subject.strip() and html.strip()):
            rendered = mail.mail_render(template=template, record=target, reader=request.user)
            subject, html, language = subject or rendered.subject, html or rendered.html, rendered.language
        mail.mail_send(to=data["to"], cc=data.get("cc") or "", subject=subject, html=html, actor=request.user,
                       record=target, template_id=template.pk if template else None, language=language)
    except mail.MailRefused as exc:
        form.add_error(None, str(exc))
        return False
    except (smtplib.SMTPException, OSError) as exc:
        form.add_error(None, _("The e-mail could not be sent (%(error)s). Nothing was saved; try again.") % {"error": exc})
        return False
    return True


def _panel_context(request, record, ct_id: int) -> dict:
    from crm.access.visibility import can_edit

    return {"record": record, "activities": selectors.timeline_for(record), "ct_id": ct_id,
            "can_edit": can_edit(request.user, record)}


@login_required
@require_GET
def email_template_fill(request, ct_id: int, obj_id: int):
    """The subject and message of the chosen template, rendered for this record (htmx, into the e-mail form)."""
    from crm.mail import services as mail
    from crm.mail.selectors import template_get

    target = _target(request.user, ct_id, obj_id, "edit")
    form = EmailForm(user=request.user, record=target)
    raw = request.GET.get("template", "")
    template = template_get(int(raw), active_only=True) if raw.isdigit() and len(raw) <= 18 else None
    if template is not None and template.pk in form.templates:
        rendered = mail.mail_render(template=template, record=target, reader=request.user)
        form = EmailForm(user=request.user, record=target,
                         initial={"subject": rendered.subject, "body_html": rendered.html, "template": template.pk})
        form.rendered = rendered
    return render(request, "activities/_email_fields.html", {"form": form})


# --- one activity -----------------------------------------------------------------------------------------------

@login_required
def detail(request, pk: int):
    activity = selectors.activity_for(request.user, pk)
    selectors.timeline_prepare([activity])
    record = selectors.target_of(activity, request.user)
    attendees = getattr(activity, "attendee_list", [])
    return render(request, "activities/detail.html", {
        "activity": activity, "record": record, "can_edit": selectors.may_edit(request.user, activity),
        "attendees": attendees, "item": timeline_items([activity]),
        "my_invitation": next((a for a in attendees if a.user_id == request.user.pk), None),
        "responses": [(value, label) for value, label in Attendee.Response.choices if value != Attendee.Response.NEEDS_ACTION],
    })


@login_required
def go(request, pk: int):
    """Open the record an activity belongs to."""
    activity = get_object_or_404(Activity, pk=pk)
    target = _target(request.user, activity.content_type_id, activity.object_id)
    return redirect(target.get_absolute_url())


@login_required
def edit(request, pk: int):
    activity = selectors.activity_for(request.user, pk)
    if activity.is_sent_email:
        raise Http404  # a copy of what left; never changed afterwards
    if not selectors.may_edit(request.user, activity):
        raise PermissionDenied
    record = selectors.target_of(activity, request.user)
    form = form_for(activity.kind, request.POST if request.method == "POST" else None, user=request.user,
                    record=record, instance=activity)
    if activity.kind == Activity.Kind.EMAIL:
        del form.fields["mode"], form.fields["to"], form.fields["cc"]
        form.fields.pop("template", None)
    fallback = record.get_absolute_url() if record is not None else "activities:calendar"
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        services.activity_update(activity=activity, actor=request.user, attendees=form.attendees(), **fields)
        messages.success(request, _saved_message(activity.kind))
        return redirect(safe_next(request, fallback))
    return render(request, "activities/form_page.html", {
        "form": form, "kind": activity.kind, "kind_label": _kind_label(activity.kind), "record": record,
        "activity": activity, "action": request.get_full_path(), "next": request.GET.get("next", ""),
    }, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def complete(request, pk: int):
    """One click: the task is done. From My day the widget comes back refreshed, from a timeline the item."""
    task = selectors.activity_for(request.user, pk)
    if task.kind != Activity.Kind.TASK or not selectors.may_edit(request.user, task):
        raise Http404
    task = services.activity_complete(activity=task, actor=request.user)
    target = request.htmx.target if request.htmx else ""
    if target == "my-day":
        return render(request, "activities/_my_day.html", {"ctx": my_day_context(request)})
    if target == f"activity-{task.pk}":
        selectors.timeline_prepare([task])
        return HttpResponse(timeline_items([task], csrf_token=get_token(request), user=request.user, can_edit=True))
    messages.success(request, _("Task “%(subject)s” done.") % {"subject": task.subject})
    return redirect(safe_next(request, "home"))


@login_required
@require_POST
def respond(request, pk: int):
    """An invited colleague's answer: accepted, tentative or declined."""
    activity = selectors.activity_for(request.user, pk)
    response = request.POST.get("response", "")
    if activity.kind != Activity.Kind.MEETING or response not in Attendee.Response.values or \
            not Attendee.objects.filter(activity=activity, user=request.user).exists():
        raise Http404
    services.attendee_respond(activity=activity, user=request.user, response=response)
    messages.success(request, _("Your answer is saved: %(response)s.") % {
        "response": Attendee.Response(response).label})
    return redirect("activities:detail", pk=activity.pk)


@login_required
def invitation(request, pk: int):
    """The meeting as an .ics file for any calendar."""
    activity = selectors.activity_for(request.user, pk)
    if activity.kind != Activity.Kind.MEETING:
        raise Http404
    selectors.timeline_prepare([activity])
    body = ics.invitation(activity, record=selectors.target_of(activity, request.user))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{activity.pk}.ics"'
    return response


# --- My day -------------------------------------------------------------------------------------------------------

def my_day_context(request) -> dict:
    day = selectors.my_day(user=request.user)
    token = get_token(request)
    return {
        "day": day,
        "overdue": my_day_rows(day.overdue, csrf_token=token, overdue=True),
        "today": my_day_rows(day.today, csrf_token=token),
        "upcoming": my_day_rows(day.upcoming, csrf_token=token),
        "undated": my_day_rows(day.undated, csrf_token=token),
        "meetings": my_day_rows(day.meetings, csrf_token=token),
    }


@login_required
def my_day(request):
    """The widget alone (it refreshes itself after a task is completed elsewhere)."""
    return render(request, "activities/_my_day.html", {"ctx": my_day_context(request)})


# --- the calendar ---------------------------------------------------------------------------------------------------

def _people(request, who: str) -> tuple[list[int], list[tuple[int, str]]]:
    team = selectors.team_of(request.user)
    team_ids = {pk for pk, _name in team}
    if who == "team" and team:
        return [request.user.pk, *sorted(team_ids)], team
    if who.isdigit() and int(who) in team_ids:
        return [int(who)], team
    return [request.user.pk], team


def _editable(request, items: list[Activity]) -> set[int]:
    """The meetings the reader may move: theirs, and others' on records they may edit (a query per type)."""
    user = request.user
    mine = {a.pk for a in items if a.assigned_to_id == user.pk or a.actor_id == user.pk}
    others = [a for a in items if a.pk not in mine and a.kind == Activity.Kind.MEETING]
    wanted: dict[int, set[int]] = {}
    for a in others:
        wanted.setdefault(a.content_type_id, set()).add(a.object_id)
    allowed: set[tuple[int, int]] = set()
    for ct_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is not None and hasattr(model.objects, "visible_to"):
            allowed |= {(ct_id, pk) for pk in model.objects.visible_to(user, "edit").filter(pk__in=ids).values_list("pk", flat=True)}
    return mine | {a.pk for a in others if (a.content_type_id, a.object_id) in allowed}


@login_required
def calendar(request):
    view = request.GET.get("view", calendar_grid.WEEK)
    view = view if view in (calendar_grid.WEEK, calendar_grid.MONTH) else calendar_grid.WEEK
    anchor = parse_date(request.GET.get("date", "") or "") if len(request.GET.get("date", "")) == 10 else None
    anchor = anchor or timezone.localdate()
    who = request.GET.get("who", "me")
    people, team = _people(request, who)
    jalali = bool(request.user.use_jalali)
    period = calendar_grid.period_for(view, anchor, jalali=jalali)
    start, end = period.bounds()
    items = selectors.calendar_items(user=request.user, start=start, end=end, people=people)
    grid = calendar_grid.render(period, items, user=request.user, editable=_editable(request, items),
                                show_owner=people != [request.user.pk], jalali=jalali)
    return render(request, "activities/calendar.html", {
        "period": period, "grid": grid, "view": view, "who": who if people != [request.user.pk] else "me",
        "team": team, "today": timezone.localdate(), "count": len(items),
        "count_text": ngettext("%(n)s item", "%(n)s items", len(items)) % {"n": format_number(len(items))},
    })


def _start_from(value: str, activity: Activity):
    """The new start of a dragged meeting: a slot ("2026-11-24T10:30", the reader's time) or a day
    ("2026-11-24": the same time of day)."""
    value = (value or "").strip()
    if len(value) == 10:
        day = parse_date(value)
        if day is None:
            return None
        local = timezone.localtime(activity.due_at) if activity.due_at else None
        return timezone.make_aware(datetime.combine(day, local.time() if local else time(9)))
    parsed = parse_datetime(value) if len(value) in (16, 19) else None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


@login_required
@require_POST
def move(request, pk: int):
    """Drag and drop: move a meeting. JSON for the calendar's script; a refusal says why, and the meeting
    goes back where it was."""
    from crm.core.formatting import format_datetime

    try:
        activity = selectors.activity_for(request.user, pk)
    except Http404:
        return JsonResponse({"ok": False, "message": _("This meeting no longer exists.")}, status=404)
    if activity.kind != Activity.Kind.MEETING:
        return JsonResponse({"ok": False, "message": _("Only meetings can be moved.")}, status=400)
    if not selectors.may_edit(request.user, activity):
        return JsonResponse({"ok": False, "message": _("You may not move this meeting.")}, status=403)
    try:
        start = _start_from(request.POST.get("start", ""), activity)
    except (ValueError, OverflowError):
        start = None
    if start is None or not 1900 <= start.year <= 2200:
        return JsonResponse({"ok": False, "message": _("That is not a time in the calendar.")}, status=400)
    activity = services.meeting_move(activity=activity, start=start, actor=request.user)
    when = format_datetime(activity.due_at)
    return JsonResponse({"ok": True, "when": when, "clock": calendar_grid.clock_range(activity), "message": _("“%(subject)s” moved to %(when)s.") % {
        "subject": activity.subject, "when": when}})


# --- the personal calendar feed --------------------------------------------------------------------------------------

def _feed_url(request, feed: CalendarFeed | None) -> str:
    from django.urls import reverse

    if feed is None:
        return ""
    return request.build_absolute_uri(reverse("activities:feed", args=[services.feed_token(feed)]))


@login_required
def feed_settings(request):
    feed = CalendarFeed.objects.filter(user=request.user).first()
    url = _feed_url(request, feed)
    return render(request, "activities/feed.html", {
        "feed": feed, "url": url, "webcal": url.replace("https://", "webcal://").replace("http://", "webcal://"),
    })


@login_required
@require_POST
def feed_rotate(request):
    existed = CalendarFeed.objects.filter(user=request.user).exists()
    services.calendar_feed_rotate(user=request.user)
    messages.success(request, _("Your calendar has a new address. The old one no longer works: subscribe again "
                                "with the new one.") if existed else _("Your calendar address is ready."))
    return redirect("activities:feed_settings")


@login_required
@require_POST
def feed_revoke(request):
    if services.calendar_feed_revoke(user=request.user):
        messages.success(request, _("The calendar address no longer works."))
    return redirect("activities:feed_settings")


def feed(request, token: str):
    """The iCalendar feed, for calendar programs: no session, the address is the secret (compared in constant
    time). Guessing is hopeless (256 bits), and failures per address are limited anyway."""
    from crm.core import ratelimit
    from crm.core.middleware import client_ip

    pk, _dash, digest = token.partition("-")
    miss_key = f"calendar-feed-miss:{client_ip(request)}"
    if ratelimit.exceeded(miss_key, FEED_MISS_RATE):
        return HttpResponse(status=429)
    found = CalendarFeed.objects.select_related("user__role", "user__profile").filter(pk=int(pk)).first()
    expected = services.feed_token(found).partition("-")[2] if found is not None else "0" * 64
    if not hmac.compare_digest(expected, digest) or found is None or not found.user.is_active:
        ratelimit.hit(miss_key, FEED_MISS_RATE)
        raise Http404
    user = found.user
    services.calendar_feed_used(feed=found)
    with timezone.override(_zone(user)):
        body = ics.feed(selectors.feed_items(user=user), user=user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm-calendar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _zone(user):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")

