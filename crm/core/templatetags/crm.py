"""Template helpers: dates, numbers and money in the user's format."""
from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def crm_date(value, user=None):
    if not value:
        return ""
    return formats.date_format(value, "Y-m-d")


@register.filter
def crm_datetime(value, user=None):
    if not value:
        return ""
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


@register.filter
def money(value, currency=""):
    if value is None or value == "":
        return ""
    return f"{formats.number_format(value, 2, force_grouping=True)} {currency}".strip()
