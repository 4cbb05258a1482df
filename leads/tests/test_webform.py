"""Web-to-lead: the builder, the public endpoint (no login, no CSRF token, honeypot, rate limit), returning leads."""
import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Touch
from crm.access.tests.factories import AdminFactory, UserFactory
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from leads.models import AssignmentRule, Lead, WebForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def webform():
    owner = UserFactory(email="inbox@example.com")
    campaign = Campaign.objects.create(name="Spring webinar", owner=owner)
    CustomFieldFactory(name="seats", label="Seats", field_type=FieldType.NUMBER)
    return WebForm.objects.create(name="Contact us", key="contact-us", fields=["first_name", "last_name", "email",
                                  "company", "cf_seats"], required_fields=["last_name", "email"],
                                  thank_you_message="Kiitos!", campaign=campaign, default_owner=owner)


def public():
    return Client(enforce_csrf_checks=True)


def test_admin_builds_a_form_and_gets_url_and_snippet(client):
    client.force_login(AdminFactory())
    bad = client.post(reverse("leads:webform_create"), {"name": "Demo", "language": "en", "fields_chosen": ["email"]})
    assert bad.status_code == 422 and "The form must ask for the last name." in bad.content.decode()
    ok = client.post(reverse("leads:webform_create"), {
        "name": "Demo", "language": "fi", "fields_chosen": ["last_name", "email", "cf_missing"],
        "required_chosen": ["email"], "is_active": "on", "allowed_origins_text": "https://www.example.com/"})
    assert ok.status_code == 422  # an unknown field is refused
    ok = client.post(reverse("leads:webform_create"), {
        "name": "Demo", "language": "fi", "fields_chosen": ["last_name", "email"], "required_chosen": ["email"],
        "is_active": "on", "allowed_origins_text": "https://www.example.com/"})
    form = WebForm.objects.get()
    assert ok.status_code == 302 and form.allowed_origins == ["https://www.example.com"]
    assert set(form.required_fields) == {"email", "last_name"}
    page = client.get(reverse("leads:webform_edit", args=[form.pk])).content.decode()
    assert f"/leads/f/{form.key}/" in page and "&lt;iframe" in page and "contact_me_by_fax" in page


def test_public_submission_creates_an_attributed_lead_without_csrf_or_login(webform):
    response = public().post(reverse("leads:webform_public", args=[webform.key]), {
        "first_name": "Leila", "last_name": "Karimi", "email": "leila@example.ir", "company": "Pars Co", "cf_seats": "40"})
    assert response.status_code == 200 and "Kiitos!" in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.owner, lead.first_touch_campaign, lead.last_touch_campaign) == (webform.default_owner, webform.campaign,
                                                                                 webform.campaign)
    assert lead.custom == {"seats": "40"} and lead.source.value == "web-form"
    assert Touch.objects.get().channel == "web_form"
    assert "frame-ancestors *" in response["Content-Security-Policy"] and "X-Frame-Options" not in response


def test_invalid_submission_keeps_the_input_and_says_why(webform):
    response = public().post(reverse("leads:webform_public", args=[webform.key]), {
        "last_name": "Karimi", "email": "not-an-email", "company": "Pars Co"})
    body = response.content.decode()
    assert response.status_code == 422 and "Enter a valid email address." in body and 'value="Pars Co"' in body
    assert not Lead.objects.exists()


def test_honeypot_pretends_success_and_saves_nothing(webform):
    response = public().post(reverse("leads:webform_public", args=[webform.key]), {
        "last_name": "Bot", "email": "bot@example.com", "contact_me_by_fax": "http://spam"})
    assert response.status_code == 200 and "Kiitos!" in response.content.decode() and not Lead.objects.exists()


def test_rate_limited_per_address(webform, settings):
    settings.WEBFORM_RATE_LIMIT = "3/1m"
    client = public()
    statuses = [client.post(reverse("leads:webform_public", args=[webform.key]),
                            {"last_name": f"L{i}", "email": f"l{i}@example.com"}).status_code for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429] and Lead.objects.count() == 3


def test_a_returning_lead_gets_a_touch_not_a_duplicate(webform):
    first = Campaign.objects.create(name="Autumn expo", owner=webform.default_owner)
    existing = Lead.objects.create(last_name="Karimi", email="leila@example.ir", email_normalized="leila@example.ir",
                                   first_touch_campaign=first, last_touch_campaign=first)
    public().post(reverse("leads:webform_public", args=[webform.key]), {"last_name": "Karimi", "email": "Leila@Example.ir"})
    existing.refresh_from_db()
    assert Lead.objects.count() == 1
    assert (existing.first_touch_campaign, existing.last_touch_campaign) == (first, webform.campaign)


def test_assignment_rules_route_web_leads_and_redirect_is_allowed_by_csp(webform):
    rep = UserFactory()
    AssignmentRule.objects.create(name="All web leads", target="user", user=rep)
    webform.redirect_url = "https://www.example.com/thanks"
    webform.save()
    response = public().post(reverse("leads:webform_public", args=[webform.key]), {"last_name": "K", "email": "k@example.com"})
    assert response.status_code == 302 and response["Location"] == "https://www.example.com/thanks"
    assert Lead.objects.get().owner == rep


def test_inactive_or_unknown_form_is_404(webform):
    webform.is_active = False
    webform.save()
    assert public().get(reverse("leads:webform_public", args=[webform.key])).status_code == 404
    assert public().get(reverse("leads:webform_public", args=["nope"])).status_code == 404
