"""The lead page's field list is written in Python; it must read as the template wrote it."""
import re

import pytest
from django.template import engines
from django.utils import translation

from crm.core import display
from leads.rendering import details_html
from leads.tests.factories import LeadFactory

REFERENCE = """{% for label, value, name in rows %}<dt class="col-sm-4 text-muted fw-normal">{{ label }}</dt><dd class="col-sm-8 text-break" data-field="{{ name }}">{% if name in inline_fields %}{% include "leads/_inline_field.html" with name=name value=value label=label editable=True %}{% else %}{{ value|default:"—"|linebreaksbr }}{% endif %}</dd>{% endfor %}"""


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fi", "fa"])
def test_the_field_list_reads_as_the_template_wrote_it(reps, language):
    rep = reps[0]
    lead = LeadFactory(owner=rep, company="<Kone & Co>", description="First line\nSecond <line>", email="a@b.example",
                       phone="+358 40 123", website="https://kone.example")
    names = ["first_name", "last_name", "company", "email", "phone", "website", "description", "owner", "status",
             "annual_revenue", "created_at"]
    inline = {"company", "phone", "status"}
    with translation.override(language):
        rows = display.detail_rows(lead, names, rep)
        expected = engines["django"].from_string(REFERENCE).render({"rows": rows, "inline_fields": inline, "lead": lead})
        written = details_html(lead, rows, inline)
    assert _squeeze(written) == _squeeze(expected)
    assert "&lt;Kone &amp; Co&gt;" in written and "First line<br>Second &lt;line&gt;" in written
