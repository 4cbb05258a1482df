"""The timeline's items are written in Python; they must read exactly as the template that wrote them
before did, for every kind of activity, in every language, escaped."""
import re
from datetime import timedelta

import pytest
from django.template import engines
from django.utils import timezone, translation

from crm.access.tests.factories import UserFactory
from crm.activities.models import Activity
from crm.activities.rendering import timeline_items
from crm.activities.tests.factories import ActivityFactory
from leads.tests.factories import LeadFactory

# The template's loop as it was, the reference.
REFERENCE = """{% load i18n crm %}{% for a in activities %}
  <li data-kind="{{ a.kind }}">
    <div class="d-flex justify-content-between flex-wrap gap-1">
      <strong><i class="bi bi-{% if a.kind == 'call' %}telephone{% elif a.kind == 'task' %}check2-square{% elif a.kind == 'meeting' %}calendar-event{% elif a.kind == 'email' %}envelope{% elif a.kind == 'note' %}sticky{% else %}lightning{% endif %}" aria-hidden="true"></i>
        {% if a.kind == "system" %}{{ a.subject|default:a.verb }}{% else %}{{ a.get_kind_display }}: {{ a.subject }}{% endif %}</strong>
      <small class="text-muted">{{ a.occurred_at|crm_datetime }}{% if a.actor %} · {{ a.actor }}{% endif %}</small>
    </div>
    {% if a.body %}<div class="small text-break">{{ a.body|linebreaksbr }}</div>{% endif %}
    {% if a.kind == "task" %}<small>{% if a.status == "open" %}<span class="badge text-bg-warning">{% translate "Open" %}</span>{% else %}<span class="badge text-bg-success">{{ a.get_status_display }}</span>{% endif %}{% if a.due_at %} {% translate "Due" %} {{ a.due_at|crm_datetime }}{% endif %}{% if a.assigned_to %} · {{ a.assigned_to }}{% endif %}</small>{% endif %}
    {% if a.kind == "call" %}<small class="text-muted">{{ a.get_direction_display }}{% if a.duration_minutes %} · {% blocktranslate with m=a.duration_minutes %}{{ m }} min{% endblocktranslate %}{% endif %}{% if a.outcome %} · {{ a.outcome }}{% endif %}</small>{% endif %}
  </li>{% endfor %}"""


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fi", "fa"])
def test_the_items_read_as_the_template_wrote_them(language):
    lead = LeadFactory()
    actor = UserFactory(first_name="<Aino>", last_name="O'Neil")
    now = timezone.now()
    ActivityFactory(target=lead, kind=Activity.Kind.CALL, subject="Intro & pricing", actor=actor, duration_minutes=25,
                    direction=Activity.Direction.OUTBOUND, outcome="<b>Interested</b>", body="Line one\r\nLine <two>",
                    occurred_at=now)
    ActivityFactory(target=lead, kind=Activity.Kind.CALL, subject="No answer", actor=None, duration_minutes=None,
                    occurred_at=now - timedelta(hours=1))
    ActivityFactory(target=lead, kind=Activity.Kind.TASK, subject="Send quote", status=Activity.Status.OPEN,
                    due_at=now + timedelta(days=2), assigned_to=actor, occurred_at=now - timedelta(hours=2))
    ActivityFactory(target=lead, kind=Activity.Kind.TASK, subject="Done one", status=Activity.Status.DONE,
                    occurred_at=now - timedelta(hours=3))
    for kind in (Activity.Kind.MEETING, Activity.Kind.EMAIL, Activity.Kind.NOTE):
        ActivityFactory(target=lead, kind=kind, subject=f"A {kind}", occurred_at=now - timedelta(hours=4))
    ActivityFactory(target=lead, kind=Activity.Kind.SYSTEM, subject="", verb="Status changed \"x\"", actor=None,
                    occurred_at=now - timedelta(hours=5))
    activities = list(Activity.objects.order_by("-occurred_at", "-id").select_related("actor", "assigned_to"))

    with translation.override(language):
        expected = engines["django"].from_string(REFERENCE).render({"activities": activities})
        written = timeline_items(activities)

    assert _squeeze(written) == _squeeze(expected)
    assert "&lt;b&gt;Interested&lt;/b&gt;" in written and "Line one<br>Line &lt;two&gt;" in written
