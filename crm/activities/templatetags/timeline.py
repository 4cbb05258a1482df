from django import template
from django.contrib.contenttypes.models import ContentType

from crm.activities.selectors import timeline_for

register = template.Library()


@register.inclusion_tag("activities/_panel.html", takes_context=True)
def timeline(context, record, can_edit=True):
    """`{% timeline record %}`: quick-add buttons and the record's timeline."""
    request = context.get("request")
    return {
        "record": record,
        "activities": timeline_for(record),
        "ct_id": ContentType.objects.get_for_model(record).pk,
        "can_edit": can_edit,
        "request": request,
        "user": getattr(request, "user", None),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def timeline_items(activities, csrf_token="", user=None, can_edit=False):
    """`{% timeline_items activities %}`: the items of a timeline (crm.activities.rendering); with
    `csrf_token=csrf_token user=request.user can_edit=...` they get their Done and Edit actions."""
    from crm.activities.rendering import timeline_items as render

    return render(activities, csrf_token=str(csrf_token or ""), user=user, can_edit=bool(can_edit))
