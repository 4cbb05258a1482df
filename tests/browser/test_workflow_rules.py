"""Workflow rules in a real browser: an admin builds "when a lead is created with rating hot, create a task for
its owner" with the condition builder and the actions editor; a rep creates such a lead, and a real Celery worker
(event delivery, then the action task) puts the task on the rep's My day on the home page."""
import pytest
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD, AdminFactory, ProfileFactory, UserFactory
from crm.automation.models_rules import WorkflowRule
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_an_admin_builds_a_rule_and_a_reps_hot_lead_gets_a_task_on_my_day(page, live_server, celery_worker):
    admin = AdminFactory(email="admin.rules@example.com")
    rep = UserFactory(profile=ProfileFactory(), email="rep.rules@example.com")
    login(page, live_server, admin.email, PASSWORD)

    page.goto(f"{live_server.url}/settings/automation/rules/")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Record type").select_option("leads.lead")
    page.get_by_role("button", name="Continue").click()
    page.locator("#id_name").fill("Hot leads: call today")
    page.locator("#id_trigger").select_option("created")
    page.get_by_role("button", name="Add condition").first.click()
    row = page.locator("[data-condition-row]").last
    row.get_by_label("Field").select_option("rating")
    row.get_by_label("Operator").select_option("equals")
    row.get_by_label("Value").select_option("hot")
    page.get_by_label("Add an action").select_option("create_task")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("[data-action=create_task]")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("Hot leads: call today")
    page.locator("#id_a0-subject").fill("Call {{ lead.first_name }} today")
    page.locator("#id_a0-assignee").select_option("owner")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Workflow rule saved (version 1)")
    rule = WorkflowRule.objects.get()
    assert rule.is_active and rule.current_version.criteria == {
        "all": [{"field": "rating", "op": "equals", "value": "hot"}]}

    page.context.clear_cookies()
    login(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/leads/new/")
    page.fill("#id_first_name", "Aino")
    page.fill("#id_last_name", "Laine")
    page.fill("#id_company", "Laine Logistics Oy")
    page.select_option("#id_rating", "hot")
    page.click("form button[type=submit]:has-text('Save')")
    page.wait_for_url("**/leads/*/")

    for _ in range(60):
        page.goto(f"{live_server.url}/")
        if page.locator("#my-day").get_by_text("Call Aino today").count():
            break
        page.wait_for_timeout(500)
    expect(page.locator("#my-day").get_by_role("link", name="Call Aino today")).to_be_visible()
