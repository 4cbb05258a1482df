"""Escalation rules in a real browser: an admin builds "Lead untouched" by clicking (the condition builder for
the criteria and the stop condition, a level with a notification added through the level's action picker), the
rule is saved with its level, and the escalation shows on the lead's page once beat's tick has fired it."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD, AdminFactory
from crm.automation import escalations
from crm.automation.models_escalations import EscalationDue, EscalationRule
from leads.models import Lead
from leads.services import lead_create
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_an_admin_builds_an_escalation_rule_by_clicking(page, live_server):
    admin = AdminFactory(email="admin.escalations@example.com")
    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/automation/rules/")
    page.get_by_role("link", name="Escalation rules").first.click()
    page.get_by_role("link", name="New escalation rule").click()
    page.get_by_label("Record type").select_option("leads.lead")
    page.get_by_role("button", name="Continue").click()
    page.locator("#id_name").fill("Lead untouched")
    page.locator("#id_clock_field").select_option("created_at")
    page.get_by_role("button", name="Add condition").first.click()
    row = page.locator("[data-condition-row]").last
    row.get_by_label("Field").select_option("status")
    row.get_by_label("Operator").select_option("equals")
    row.get_by_label("Value").select_option("not-contacted")
    page.get_by_role("button", name="Add condition").nth(1).click()
    row = page.locator("[data-condition-row]").last
    row.get_by_label("Field").select_option("status")
    row.get_by_label("Operator").select_option("changed")
    page.locator("#id_l0-after_amount").fill("4")
    page.locator("#id_l0-new_kind").select_option("notify")
    page.locator("#levels button[name='l0-add']").click()
    page.wait_for_load_state("networkidle")
    # Posted back with the action's form; what was entered is still there.
    expect(page.locator("#id_name")).to_have_value("Lead untouched")
    expect(page.locator("#id_l0-after_amount")).to_have_value("4")
    page.locator("#id_l0-a0-to").select_option("owner")
    page.locator("#id_l0-a0-message").fill("{{ lead.first_name }} waits for a call")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Escalation rule saved")
    rule = EscalationRule.objects.get()
    assert rule.criteria == {"all": [{"field": "status", "op": "equals", "value": "not-contacted"}]}
    assert [(c["field"], c["op"]) for c in rule.stop_criteria["all"]] == [("status", "changed")]
    assert [(lv.after_minutes, lv.actions) for lv in rule.levels.all()] == [
        (240, [{"kind": "notify", "to": "owner", "message": "{{ lead.first_name }} waits for a call"}])]

    lead = lead_create(actor=admin, lead=Lead(first_name="Aino", last_name="Laine", owner=admin))
    escalations.plan_existing(rule_id=rule.pk)
    escalations.tick(now=timezone.now() + timedelta(hours=5))
    assert EscalationDue.objects.get(object_id=lead.pk).state == "fired"
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("#escalations")).to_contain_text("Lead untouched")
    page.goto(f"{live_server.url}/settings/automation/escalations/log/")
    expect(page.locator("[data-due]")).to_contain_text("Aino Laine")
