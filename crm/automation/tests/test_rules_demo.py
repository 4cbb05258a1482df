"""The demo ships the two workflow rules with a week of their runs, once; the demo's own records are not run
through them again when their events are delivered after the seed."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.access.models import User
from crm.automation.models_rules import RuleRun, WorkflowRule
from crm.automation.rule_demo import LEAD_RULE, OPPORTUNITY_RULE
from crm.automation.tests.rule_helpers import deliver_events

pytestmark = pytest.mark.django_db


def test_the_demo_rules_and_a_week_of_runs(client):
    call_command("seed_demo", verbosity=0)
    runs = RuleRun.objects.count()
    call_command("seed_demo", verbosity=0)
    assert RuleRun.objects.count() == runs > 0
    assert set(WorkflowRule.objects.values_list("name", flat=True)) >= {LEAD_RULE, OPPORTUNITY_RULE}
    assert RuleRun.objects.filter(rule__name=OPPORTUNITY_RULE).exists()
    assert RuleRun.objects.filter(rule__name=LEAD_RULE).exists()
    assert not RuleRun.objects.filter(created_at__lt=timezone.now() - timedelta(days=7, minutes=1)).exists()
    deliver_events()  # the seed's own events reach the engine afterwards: nothing new fires
    assert RuleRun.objects.count() == runs
    client.force_login(User.objects.get(email="admin@demo.local"))
    page = client.get(reverse("automation:run_list")).content.decode()
    assert LEAD_RULE in page and OPPORTUNITY_RULE in page
    assert client.get(reverse("automation:rule_list")).status_code == 200
