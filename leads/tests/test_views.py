"""Lead pages: custom fields end to end, visibility, field-level security, exports, query budgets."""
import csv
import io

import pytest
from django.urls import reverse

from crm.access.models import Access, AuditLog, FieldAccess, FieldPermission
from crm.access.tests.factories import ProfileFactory, RoleFactory, UserFactory, set_org_default
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reps():
    set_org_default("leads.lead", Access.PRIVATE)
    manager_role = RoleFactory(name="Manager")
    rep_role = RoleFactory(name="Rep", parent=manager_role)
    profile = ProfileFactory(record_types=["leads.lead"])
    return (UserFactory(role=rep_role, profile=profile), UserFactory(role=rep_role, profile=profile),
            UserFactory(role=manager_role, profile=profile))


def test_custom_fields_appear_in_the_form_are_validated_and_saved(client, reps):
    rep, _, _ = reps
    CustomFieldFactory(name="seats", label="Seats", field_type=FieldType.NUMBER, required=True)
    CustomFieldFactory(name="tier", label="Tier", field_type=FieldType.PICKLIST, choices=["Gold", "Silver"], default="Silver")
    client.force_login(rep)

    form_page = client.get(reverse("leads:create")).content.decode()
    assert 'name="cf_seats"' in form_page and 'name="cf_tier"' in form_page and "Silver" in form_page

    bad = client.post(reverse("leads:create"), {"last_name": "Virtanen", "company": "Typed Oy", "cf_seats": "many",
                                                "cf_tier": "Silver", "currency": "EUR"})
    assert bad.status_code == 422 and "Typed Oy" in bad.content.decode()
    assert not Lead.objects.exists()

    ok = client.post(reverse("leads:create"), {"last_name": "Virtanen", "cf_seats": "12", "cf_tier": "Gold",
                                               "currency": "EUR", "email": " Mikko@Example.COM "})
    lead = Lead.objects.get()
    assert ok.status_code == 302 and lead.custom == {"seats": "12", "tier": "Gold"}
    assert lead.owner == rep and lead.email_normalized == "mikko@example.com"

    detail = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Seats" in detail and "12" in detail and "Gold" in detail


def test_custom_field_filter_and_column_on_the_list(client, reps):
    rep, _, _ = reps
    CustomFieldFactory(name="region", label="Region", field_type=FieldType.TEXT, show_in_list=True)
    LeadFactory(owner=rep, last_name="Nordic", custom={"region": "Nordics"})
    LeadFactory(owner=rep, last_name="Gulf", custom={"region": "Middle East"})
    client.force_login(rep)

    response = client.get(reverse("leads:list"), {"cf_region": "nordic"})

    assert [lead.last_name for lead, _ in response.context["rows"]] == ["Nordic"]
    assert ("cf_region", "Region") in [(h.name, h.label) for h in response.context["headers"]]


def test_edit_records_history_of_standard_and_custom_fields(client, reps):
    rep, _, _ = reps
    CustomFieldFactory(name="tier", label="Tier", field_type=FieldType.PICKLIST, choices=["Gold", "Silver"])
    client.force_login(rep)
    client.post(reverse("leads:create"), {"last_name": "Laine", "currency": "EUR", "cf_tier": "Silver"})
    lead = Lead.objects.get()

    client.post(reverse("leads:edit", args=[lead.pk]), {"last_name": "Laine", "company": "Aalto", "currency": "EUR",
                                                        "cf_tier": "Gold", "owner": rep.pk})

    history = client.get(reverse("records:history", args=["leads", lead.pk])).context["history"]
    changes = {(c.label, c.old, c.new) for c in history[0].changes}
    assert ("Company", "", "Aalto") in changes and ("Tier", "Silver", "Gold") in changes
    assert history[0].who == rep


def test_another_rep_gets_404_everywhere(client, reps):
    rep, other, manager = reps
    lead = LeadFactory(owner=rep)
    client.force_login(other)

    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 404
    assert client.get(reverse("leads:list")).context["rows"] == []

    client.force_login(manager)
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 200


def test_read_only_and_hidden_fields_are_enforced(client, reps):
    rep, _, _ = reps
    CustomFieldFactory(name="discount", label="Discount", field_type=FieldType.PERCENT)
    FieldPermission.objects.create(profile=rep.profile, record_type="leads.lead", field_name="cf_discount",
                                   access=FieldAccess.READ_ONLY)
    FieldPermission.objects.create(profile=rep.profile, record_type="leads.lead", field_name="annual_revenue",
                                   access=FieldAccess.HIDDEN)
    lead = LeadFactory(owner=rep, annual_revenue=5000000, custom={"discount": "10"})
    client.force_login(rep)

    client.post(reverse("leads:edit", args=[lead.pk]), {"last_name": "X", "currency": "EUR", "cf_discount": "90",
                                                        "annual_revenue": "1", "owner": rep.pk})

    lead.refresh_from_db()
    assert lead.custom["discount"] == "10" and lead.annual_revenue == 5000000
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Annual revenue" not in page
    export = b"".join(client.get(reverse("leads:list"), {"export": "csv"}).streaming_content).decode("utf-8-sig")
    assert "Annual revenue" not in export.splitlines()[0]


def test_export_honours_visibility_escapes_formulas_and_is_audited(client, reps):
    rep, other, _ = reps
    LeadFactory(owner=rep, last_name="=HYPERLINK(\"http://evil\")", company="+cmd")
    LeadFactory(owner=other, last_name="Hidden")
    client.force_login(rep)

    response = client.get(reverse("leads:list"), {"export": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2
    assert "'=HYPERLINK(\"http://evil\")" in rows[1] and "'+cmd" in rows[1]
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, actor=rep).exists()


def test_export_needs_the_export_permission(client):
    user = UserFactory(profile=ProfileFactory(record_types=[]))
    from crm.access.models import ObjectPermission

    ObjectPermission.objects.create(profile=user.profile, record_type="leads.lead", can_view=True)
    client.force_login(user)

    assert client.get(reverse("leads:list"), {"export": "csv"}).status_code == 404


def test_list_and_detail_query_budgets(client, reps, django_assert_max_num_queries):
    rep, _, _ = reps
    CustomFieldFactory(name="region", label="Region", show_in_list=True)
    for i in range(60):
        LeadFactory(owner=rep, custom={"region": f"R{i}"})
    client.force_login(rep)
    client.get(reverse("leads:list"))  # warm per-process caches

    with django_assert_max_num_queries(16):
        assert client.get(reverse("leads:list")).status_code == 200
    lead = Lead.objects.first()
    with django_assert_max_num_queries(25):
        assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200
