"""Template helpers: dates, numbers, money and percentages in the reader's format, left-to-right
isolation for phones, e-mails, URLs, codes and amounts, and URLs."""
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
    return formatting.format_number(value, None if decimals in (None, "") else int(decimals))


@register.filter
def money(value, currency=""):
    """The amount isolated left to right, so Persian text around it cannot reorder it."""
    return formatting.ltr(formatting.format_money(value, currency or ""))


@register.filter
def percent(value, decimals=None):
    """`value` in percent units: {{ 25|percent }} is "25%" (en), "25 %" (fi), "۲۵٪" (fa)."""
    return formatting.format_percent(value, None if decimals in (None, "") else int(decimals))


@register.filter
def ltr(value):
    """Any value (phone, e-mail, URL, code) isolated left to right; "" stays "" so |default still works."""
    return formatting.ltr(value)


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


@register.filter
def format_count(text, count):
    """A count sentence such as ngettext_lazy("%(n)s lead", "%(n)s leads", "count"): the plural is chosen by
    the number, the number shown in the reader's format."""
    return text % {"count": count, "n": formatting.format_number(count)}


@register.filter
def has_right(user, right: str) -> bool:
    return bool(getattr(user, "has_right", None)) and user.has_right(right)


@register.simple_tag(takes_context=True)
def panels(context, record, placement="main"):
    """The panels other apps contribute to a record's page (crm.core.panels)."""
    from crm.core.panels import render_panels

    return render_panels(context, record, placement)


@register.filter
def filter_fields(form):
    """A filter form's fields, each with its label and errors, written in Python: a list page renders
    a dozen or more on every request, and the template loop cost more than the widgets."""
    from html import escape

    from django.utils.safestring import mark_safe

    parts = []
    for field in form:
        label = escape(str(field.label))
        errors = field.errors
        error = f'<div class="invalid-feedback d-block">{escape(" ".join(str(e) for e in errors))}</div>' if errors else ""
        if field.widget_type == "checkbox":
            parts.append(f'<div class="form-check mb-2">{field}<label class="form-check-label small" '
                         f'for="{escape(field.id_for_label)}">{label}</label>{error}</div>')
        else:
            parts.append(f'<div class="mb-2"><label class="form-label small mb-0" for="{escape(field.id_for_label)}">'
                         f'{label}</label>{field}{error}</div>')
    return mark_safe("\n".join(parts))
