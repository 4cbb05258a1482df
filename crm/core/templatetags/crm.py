"""Template helpers: dates, numbers and money in the reader's format, and URLs."""
from django import template
from django.urls import NoReverseMatch, reverse

from crm.core import formatting

register = template.Library()


@register.filter
def crm_date(value, user=None):
    return formatting.format_date(value, user or None)


@register.filter
def crm_datetime(value, user=None):
    return formatting.format_datetime(value, user or None)


@register.filter
def number(value, decimals=None):
    return formatting.format_number(value, decimals)


@register.filter
def money(value, currency=""):
    return formatting.format_money(value, currency)


@register.filter
def digits(value):
    return formatting.localize_digits(str(value))


@register.simple_tag
def optional_url(name, *args):
    """The URL of `name`, or "" when that page does not exist (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def record_url(record) -> str:
    """The record's detail URL, or "" while its app has no detail page yet."""
    try:
        return record.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        return ""
