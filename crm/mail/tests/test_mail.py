"""E-mail from the CRM: templates with merge fields (only the record type's fields, nothing that runs, hidden
fields left empty, values escaped), the recipient's language, sending from a record page through Django's
backend onto the timeline, logging one written elsewhere, refusals that save nothing, and the settings pages."""
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.activities.models import Activity
from crm.mail import services
from crm.mail.models import EmailTemplate
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _template(actor, *, en=("Hello {{ lead.first_name }}", "<p>Dear {{ lead.first_name|default:\"friend\" }} at {{ lead.company }}, {{ sender.full_name }}</p>"),
              fi=None, name="Welcome"):
    variants = {"en": en}
    if fi:
        variants["fi"] = fi
    return services.template_save(actor=actor, name=name, record_type="leads.lead", variants=variants)


def _email_url(record):
    return reverse("activities:create", args=[ContentType.objects.get_for_model(record).pk, record.pk, "email"])


def test_merge_fields_are_filled_and_escaped(reps):
    rep, _, _ = reps
    template = _template(rep)
    lead = LeadFactory(owner=rep, first_name="<Aino>", company="Laine & Co")

    rendered = services.mail_render(template=template, record=lead, reader=rep)

    assert rendered.subject == "Hello <Aino>"  # a subject is plain text
    assert "Dear &lt;Aino&gt; at Laine &amp; Co, " in rendered.html and "<Aino>" not in rendered.html
    assert rendered.text.startswith("Dear <Aino> at Laine & Co")


def test_an_empty_field_takes_its_fallback(reps):
    rep, _, _ = reps
    rendered = services.mail_render(template=_template(rep), record=LeadFactory(owner=rep, first_name=""), reader=rep)
    assert "Dear friend at" in rendered.html


@pytest.mark.parametrize("text", ["{% load static %}", "{{ lead.owner.password }}", "{{ lead.__class__ }}",
                                  "{{ settings.SECRET_KEY }}", "{{ lead.first_name|safe }}", "{# x #}"])
def test_a_template_that_could_run_or_reach_anything_is_refused(reps, text):
    rep, _, _ = reps
    with pytest.raises(ValidationError):
        _template(rep, en=("Hi", f"<p>{text}</p>"))
    assert not EmailTemplate.objects.exists()


def test_a_link_made_from_a_field_cannot_become_javascript(reps):
    rep, _, _ = reps
    template = _template(rep, en=("Hi", '<p><a href="{{ lead.website }}">site</a></p>'))
    lead = LeadFactory(owner=rep, website="javascript:alert(1)")

    html = services.mail_render(template=template, record=lead, reader=rep).html

    assert "javascript" not in html


def test_fields_the_sender_may_not_see_stay_empty(reps):
    from crm.access.models import FieldAccess, FieldPermission

    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="leads.lead", field_name="company",
                                   access=FieldAccess.HIDDEN)
    lead = LeadFactory(owner=rep, first_name="Aino", company="Secret Oy")

    rendered = services.mail_render(template=_template(rep), record=lead, reader=rep)

    assert "Secret Oy" not in rendered.html and rendered.withheld == ["company"]


def test_a_record_the_sender_cannot_see_is_not_rendered(reps):
    rep, other, _ = reps
    with pytest.raises(PermissionDenied):
        services.mail_render(template=_template(rep), record=LeadFactory(owner=other), reader=rep)


def test_the_recipients_language_picks_the_variant(reps):
    rep, _, _ = reps
    template = _template(rep, fi=("Hei {{ lead.first_name }}", "<p>Hyvä {{ lead.first_name }}</p>"))
    finn = LeadFactory(owner=rep, first_name="Aino", country="FI")
    swede = LeadFactory(owner=rep, first_name="Sven", country="SE")

    assert services.mail_render(template=template, record=finn, reader=rep).subject == "Hei Aino"
    assert services.mail_render(template=template, record=swede, reader=rep).language == "en"


def test_sending_from_a_record_page_goes_through_the_backend_and_onto_the_timeline(client, reps):
    rep, _, _ = reps
    template = _template(rep)
    lead = LeadFactory(owner=rep, first_name="Aino", email="aino@example.com")
    client.force_login(rep)

    filled = client.get(reverse("activities:email_template", args=[
        ContentType.objects.get_for_model(lead).pk, lead.pk]), {"template": template.pk}, **HTMX).content.decode()
    assert "Hello Aino" in filled
    response = client.post(_email_url(lead), {"mode": "send", "to": "aino@example.com", "cc": "boss@example.com",
                                              "template": template.pk, "subject": "", "body_html": ""}, **HTMX)

    assert response.status_code == 200 and response["HX-Trigger"] == "activityCreated"
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["aino@example.com"] and sent.cc == ["boss@example.com"] and sent.subject == "Hello Aino"
    assert sent.reply_to == [rep.email] and sent.alternatives[0][1] == "text/html"
    email = Activity.objects.get(kind=Activity.Kind.EMAIL)
    assert email.target == lead and email.is_sent_email and email.data["template"] == template.pk
    assert email.data["message_id"] == sent.extra_headers["Message-ID"]
    assert "Hello Aino" in response.content.decode()


def test_an_opted_out_recipient_is_refused_and_nothing_is_saved(client, reps):
    from accounts.tests.factories import ContactFactory

    rep, _, _ = reps
    contact = ContactFactory(owner=rep, email="no@example.com")
    type(contact).objects.filter(pk=contact.pk).update(email_opt_out=True)
    client.force_login(rep)

    response = client.post(_email_url(contact), {"mode": "send", "to": "no@example.com", "subject": "Hi",
                                                 "body_html": "<p>Hello</p>"}, **HTMX)

    assert response["HX-Retarget"] == "#activity-form" and "opted out" in response.content.decode()
    assert not mail.outbox and not Activity.objects.exists()


def test_a_failing_mail_server_saves_nothing_and_says_so(client, reps, settings, monkeypatch):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    response = client.post(_email_url(lead), {"mode": "send", "to": "x@example.com", "subject": "Hi",
                                              "body_html": "Hello"}, **HTMX)

    assert "could not be sent" in response.content.decode() and not Activity.objects.exists()


def test_bad_addresses_are_refused(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    response = client.post(_email_url(lead), {"mode": "send", "to": "not an address, x@example.com",
                                              "subject": "Hi", "body_html": "Hello"}, **HTMX)

    assert "is not a valid e-mail address" in response.content.decode() and not mail.outbox


def test_an_email_written_elsewhere_is_logged(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    client.post(_email_url(lead), {"mode": "log", "subject": "Re: pricing", "direction": "inbound",
                                   "body_html": "They <b>agreed</b><script>x</script>"}, **HTMX)

    email = Activity.objects.get()
    assert (email.kind, email.direction, email.is_sent_email) == ("email", "inbound", False)
    assert "<script" not in email.body_html and not mail.outbox


def test_templates_offered_are_the_record_types_active_ones(client, reps):
    rep, _, _ = reps
    _template(rep, name="Active one")
    inactive = _template(rep, name="Old one")
    EmailTemplate.objects.filter(pk=inactive.pk).update(is_active=False)
    services.template_save(actor=rep, name="For accounts", record_type="accounts.account",
                           variants={"en": ("Hi", "<p>Hi {{ account.name }}</p>")})
    client.force_login(rep)

    html = client.get(_email_url(LeadFactory(owner=rep)), **HTMX).content.decode()

    assert "Active one" in html and "Old one" not in html and "For accounts" not in html


# --- settings pages -----------------------------------------------------------------------------------------------

@pytest.fixture
def admin_user(db):
    from crm.access.tests.factories import UserFactory

    return UserFactory(is_superuser=True, email="mailadmin@example.com")


def test_an_admin_writes_a_template_in_two_languages_with_a_preview(client, admin_user):
    client.force_login(admin_user)
    data = {"name": "Follow-up", "record_type": "leads.lead", "is_active": "on",
            "subject_en": "Hi {{ lead.first_name }}", "body_en": "<p>Thanks, {{ lead.first_name }}</p>",
            "subject_fi": "Hei {{ lead.first_name }}", "body_fi": "<p>Kiitos</p>", "subject_fa": "", "body_fa": ""}

    preview = client.post(reverse("mail:template_create"), {**data, "preview": "1"}).content.decode()
    assert "Thanks, [First name]" in preview and not EmailTemplate.objects.exists()
    response = client.post(reverse("mail:template_create"), data)

    template = EmailTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("mail:template_edit", args=[template.pk])
    assert sorted(template.variants.values_list("language", flat=True)) == ["en", "fi"]
    assert "Follow-up" in client.get(reverse("mail:template_list")).content.decode()
    page = client.get(reverse("mail:template_edit", args=[template.pk])).content.decode()
    assert "{{ lead.first_name }}" in page and "Kiitos" in page

    bad = client.post(reverse("mail:template_edit", args=[template.pk]), {**data, "body_en": "{% load x %}"})
    assert bad.status_code == 422 and "not allowed" in bad.content.decode()

    client.post(reverse("mail:template_delete", args=[template.pk]))
    assert not EmailTemplate.objects.exists()


def test_reps_cannot_manage_templates(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    assert client.get(reverse("mail:template_list")).status_code in (403, 404)


def test_choosing_another_record_type_shows_its_merge_fields(client, admin_user):
    client.force_login(admin_user)

    fragment = client.get(reverse("mail:merge_fields"), {"record_type": "accounts.account"}, **HTMX).content.decode()
    page = client.get(reverse("mail:template_create")).content.decode()

    assert fragment.startswith('<div class="card" id="merge-fields"') and "{{ account.name }}" in fragment
    assert "lead.first_name" not in fragment
    assert 'hx-get="/mail/templates/merge-fields/"' in page
    assert "<li>" not in client.get(reverse("mail:merge_fields"), {"record_type": "nope"}).content.decode()
