"""Log activities on any record and complete tasks, without leaving the record's page."""
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from crm.activities.forms import ActivityForm
from crm.activities.models import Activity
from crm.activities.selectors import timeline_for
from crm.activities.services import activity_complete, activity_create
from crm.core.urls_safe import safe_next


def _target(user, ct_id: int, obj_id: int, action: str = "view"):
    try:
        model = ContentType.objects.get_for_id(ct_id).model_class()
    except ContentType.DoesNotExist:
        raise Http404
    if model is None or not hasattr(model.objects, "visible_to"):
        raise Http404
    return get_object_or_404(model.objects.visible_to(user, action), pk=obj_id)


@login_required
def create(request, ct_id: int, obj_id: int, kind: str):
    if kind not in Activity.Kind.values or kind == Activity.Kind.SYSTEM:
        raise Http404
    target = _target(request.user, ct_id, obj_id, "edit")
    form = ActivityForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        activity_create(target=target, actor=request.user, kind=kind, **form.cleaned_data)
        if request.htmx:
            return render(request, "activities/_created.html", {"record": target, "activities": timeline_for(target), "ct_id": ct_id})
        return redirect(target.get_absolute_url())
    return render(request, "activities/_form.html", {"form": form, "kind": kind, "kind_label": Activity.Kind(kind).label,
                                                      "record": target, "ct_id": ct_id}, status=200 if request.method == "GET" else 422)


def _task_for(user, pk: int) -> Activity:
    task = get_object_or_404(Activity, pk=pk, kind=Activity.Kind.TASK)
    if task.assigned_to_id != user.pk:
        _target(user, task.content_type_id, task.object_id, "edit")  # 404 unless the user may edit the record
    return task


@login_required
@require_POST
def complete(request, pk: int):
    task = _task_for(request.user, pk)
    activity_complete(activity=task, actor=request.user)
    return redirect(safe_next(request, "home"))


@login_required
def go(request, pk: int):
    """Open the record an activity belongs to."""
    activity = get_object_or_404(Activity, pk=pk)
    target = _target(request.user, activity.content_type_id, activity.object_id)
    return redirect(target.get_absolute_url())
