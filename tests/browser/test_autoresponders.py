"""Auto-responders in a real browser: an admin builds "answer web-form leads" with the condition builder by
clicking; a visitor submits the public web-to-lead form; a real Celery worker (event delivery, then the send
task) answers the new lead once, and the answer is on the lead's timeline."""
import pytest
from playwright.sync_api import expect

from conftest import wait_for
from crm.access.tests.factories import PASSWORD, AdminFactory
from crm.activities.models import Activity
from crm.automation.models_autoresponders import AutoResponder, AutoResponse
from crm.customization.models import PicklistValue
from crm.mail.services import template_save
from leads.models import Lead, WebForm
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_an_admin_builds_an_auto_responder_and_a_web_form_lead_is_answered_once(page, live_server, celery_worker):
    admin = AdminFactory(email="admin.autoresponders@example.com")
    template_save(actor=None, name="Thanks for your enquiry", record_type="leads.lead", variants={
        "en": ("Thanks for your enquiry, {{ lead.first_name }}", "<p>We will be in touch.</p>"),
        "fi": ("Kiitos yhteydenotostasi, {{ lead.first_name }}", "<p>Olemme yhteydessä.</p>")})
    web = PicklistValue.objects.get(picklist="leads.source", value="web-form")
    form = WebForm.objects.create(name="Contact us", key="contact-us", source=web,
                                  fields=["first_name", "last_name", "email", "country"],
                                  required_fields=["last_name", "email"])
    login(page, live_server, admin.email, PASSWORD)

    page.goto(f"{live_server.url}/settings/automation/rules/")
    page.get_by_role("link", name="Auto-responders").first.click()
    page.get_by_role("link", name="New auto-responder").click()
    page.get_by_label("Record type").select_option("leads.lead")
    page.get_by_role("button", name="Continue").click()
    page.locator("#id_name").fill("Web-form leads: thanks")
    page.locator("#id_template").select_option(label="Thanks for your enquiry")
    page.get_by_role("button", name="Add condition").first.click()
    row = page.locator("[data-condition-row]").last
    row.get_by_label("Field").select_option("source")
    row.get_by_label("Operator").select_option("equals")
    row.get_by_label("Value").select_option("web-form")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Auto-responder saved")
    responder = AutoResponder.objects.get()
    assert responder.is_active and responder.criteria == {
        "all": [{"field": "source", "op": "equals", "value": "web-form"}]}

    page.context.clear_cookies()
    # The bare public form page links no icon, so the browser asks for /favicon.ico (a 404 is not this test's).
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{live_server.url}/leads/f/{form.key}/")
    page.fill("#id_first_name", "Aino")
    page.fill("#id_last_name", "Laine")
    page.fill("#id_email", "aino.laine@example.fi")
    page.fill("#id_country", "FI")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    lead = wait_for(lambda: Lead.objects.filter(email="aino.laine@example.fi").first(), timeout=30)
    row = wait_for(lambda: AutoResponse.objects.filter(object_id=lead.pk, outcome="sent").first(), timeout=60)
    assert row.responder == responder and row.language == "fi"
    assert row.subject == "Kiitos yhteydenotostasi, Aino"
    assert AutoResponse.objects.count() == 1
    assert list(Activity.objects.filter(kind="email", object_id=lead.pk).values_list("subject", flat=True)) == [
        "Kiitos yhteydenotostasi, Aino"]

    # The admin sees it in the log of sent responses.
    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/automation/auto-responders/log/")
    expect(page.locator(f"[data-response='{row.pk}']")).to_contain_text("Kiitos yhteydenotostasi, Aino")
