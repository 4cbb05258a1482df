"""Form widgets."""
from html import escape as _escape

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


class FastSelect(forms.Select):
    """A <select> whose options are written in Python. Django renders every option through a template
    (about 0.1 ms each), which a list page's filters pay on every request for every user and picklist
    value; here the whole widget costs about what one option did."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        selected = {str(v) for v in self.format_value(value)}
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        parts = [f'<select name="{escape(name)}"{flatatt(attrs)}>']
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):  # a group: (group label, [(value, label), ...])
                parts.append(f'<optgroup label="{escape(option_value)}">')
                parts.extend(_option(v, text, selected) for v, text in label)
                parts.append("</optgroup>")
            else:
                parts.append(_option(option_value, label, selected))
        parts.append("</select>")
        return mark_safe("".join(parts))


def _option(value, label, selected: set[str]) -> str:
    # The standard library's escape: what Django's does, without its lazy-string wrapper (a list page
    # writes a few hundred options).
    value = "" if value is None else str(value)
    return f'<option value="{_escape(value)}"{" selected" if value in selected else ""}>{_escape(str(label))}</option>'


def select_html(choices, *, name: str, id: str, empty: str = "", selected=(), css: str = "form-select form-select-sm") -> str:
    """A plain <select> of (value, label) pairs, with an empty first option when `empty` is given."""
    chosen = {str(v) for v in selected}
    parts = [f'<select class="{_escape(css)}" id="{_escape(id)}" name="{_escape(name)}">']
    if empty:
        parts.append(f'<option value="">{_escape(str(empty))}</option>')
    parts.extend(_option(value, label, chosen) for value, label in choices)
    parts.append("</select>")
    return mark_safe("".join(parts))


class LookupSelect(forms.Select):
    """A <select> for one record of a type that may hold hundreds of thousands: it renders only the chosen
    record (read through the field's queryset, so through visibility) and Tom Select fetches the rest as
    the user types, from `data-lookup` (the list engine's lookup endpoint of the related type)."""

    def __init__(self, attrs=None, lookup_url: str = ""):
        super().__init__(attrs)
        self.lookup_url = lookup_url

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        queryset = getattr(self.choices, "queryset", None)
        url = self.lookup_url
        if not url and queryset is not None:
            from django.urls import reverse

            from crm.core import records

            try:
                url = reverse("lists:lookup", args=[records.for_model(queryset.model).slug])
            except KeyError:
                url = ""
        parts = [f'<select name="{escape(name)}"{flatatt(attrs)} data-tom-select data-lookup="{escape(url)}">',
                 '<option value="">---------</option>']
        values = [v for v in self.format_value(value) if v not in ("", None)]
        if values and queryset is not None:
            for obj in queryset.filter(pk__in=[v for v in values if str(v).isdigit()])[:1]:
                parts.append(f'<option value="{obj.pk}" selected>{escape(str(obj))}</option>')
        parts.append("</select>")
        return mark_safe("".join(parts))


def _input(widget, name, value, attrs) -> str:
    """An <input> as Django's template would write it, in Python (about a tenth of the cost)."""
    context = widget.get_context(name, value, attrs)["widget"]
    kind = context.get("type", widget.input_type)
    value = context["value"]
    parts = [f'<input type="{escape(kind)}" name="{escape(name)}"']
    if value is not None and value != "" and kind not in ("checkbox", "password"):
        parts.append(f' value="{escape(value)}"')
    for key, item in context["attrs"].items():
        if item is True:
            parts.append(f" {escape(key)}")
        elif item is not False and item is not None:
            parts.append(f' {escape(key)}="{escape(item)}"')
    parts.append(">")
    return mark_safe("".join(parts))


class _FastInputMixin:
    """Inputs written in Python: a list page renders its filters on every request."""

    def render(self, name, value, attrs=None, renderer=None):
        return _input(self, name, value, attrs)


class FastTextInput(_FastInputMixin, forms.TextInput):
    pass


class FastNumberInput(_FastInputMixin, forms.NumberInput):
    pass


class FastDateInput(_FastInputMixin, forms.DateInput):
    pass


class FastCheckboxInput(_FastInputMixin, forms.CheckboxInput):
    pass


FAST = {forms.TextInput: FastTextInput, forms.NumberInput: FastNumberInput, forms.DateInput: FastDateInput,
        forms.CheckboxInput: FastCheckboxInput}


def faster(widget: forms.Widget) -> forms.Widget:
    """The Python-rendered twin of a plain input widget (same attributes and format), else the widget."""
    fast = FAST.get(type(widget))
    if fast is None:
        return widget
    twin = fast.__new__(fast)
    twin.__dict__.update(widget.__dict__)
    return twin
