"""Form widgets."""
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
    value = "" if value is None else str(value)
    return f'<option value="{escape(value)}"{" selected" if value in selected else ""}>{escape(label)}</option>'
