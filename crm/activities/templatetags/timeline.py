from django import template
from django.contrib.contenttypes.models import ContentType

from crm.activities.selectors import timeline_for

register = template.Library()


@register.inclusion_tag("activities/_panel.html", takes_context=True)
def timeline(context, record, can_edit=True):
    """`{% timeline record %}`: quick-add buttons and the record's timeline."""
    return {
        "record": record,
        "activities": timeline_for(record),
        "ct_id": ContentType.objects.get_for_model(record).pk,
        "can_edit": can_edit,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def timeline_items(activities):
    """`{% timeline_items activities %}`: the items of a timeline (crm.activities.rendering)."""
    from crm.activities.rendering import timeline_items as render

    return render(activities)
