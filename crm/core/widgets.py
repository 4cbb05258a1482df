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
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{escape(widget["name"])}"{flatatt(widget["attrs"])}>']
        for group, options, _ in widget["optgroups"]:
            if group:
                parts.append(f'<optgroup label="{escape(group)}">')
            for option in options:
                parts.append(f'<option value="{escape(option["value"])}"{flatatt(option["attrs"])}>'
                             f'{escape(option["label"])}</option>')
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))
