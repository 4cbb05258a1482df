"""Custom field definitions under /settings/customization/fields/."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.access.models import AuditLog
from crm.access.tests.factories import ProfileFactory, UserFactory
from crm.customization.forms import validate_default
from crm.customization.models import CustomField, FieldType
from crm.customization.tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    # given a customiser: the right, not a full administrator
    client.force_login(UserFactory(profile=ProfileFactory(manage_customization=True)))
    return client


def field_post(**overrides):
    data = {"name": "region", "label": "Region", "label_fa": "", "label_fi": "", "field_type": "text", "default": "",
            "help_text": "", "choices_text": "", "section": "", "order": "10", "is_active": "on"}
    data.update(overrides)
    return data


def test_index_redirects_to_first_type_and_lists_fields(admin_client):
    CustomFieldFactory(record_type="leads.lead", name="zeta", label="Zeta", order=20)
    CustomFieldFactory(record_type="leads.lead", name="alpha", label="Alpha", order=10)
    CustomFieldFactory(record_type="accounts.account", name="other")
    response = admin_client.get(reverse("customization:fields"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("customization:field_list", args=["leads.lead"])
    assert [f.name for f in response.context["fields"]] == ["alpha", "zeta"]


def test_create_picklist_with_translations(admin_client):
    url = reverse("customization:field_create", args=["leads.lead"])
    response = admin_client.post(url, field_post(
        field_type="picklist", choices_text="North\nSouth\n\nNorth\n", default="South", label_fa="منطقه",
        label_fi="Alue", required="on", show_in_list="on"), REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 302
    field = CustomField.objects.get(record_type="leads.lead", name="region")
    assert field.choices == ["North", "South"] and field.default == "South"
    assert field.label_translations == {"fa": "منطقه", "fi": "Alue"}
    assert field.required and field.show_in_list and field.key == "cf_region"
    row = AuditLog.objects.get(action=AuditLog.Action.CUSTOMIZATION_CHANGED)
    assert row.ip == "10.0.0.5" and row.data["created"] is True


def test_picklist_needs_choices_and_default_among_them(admin_client):
    url = reverse("customization:field_create", args=["leads.lead"])
    response = admin_client.post(url, field_post(field_type="picklist", choices_text="", default=""))
    assert "choices_text" in response.context["form"].errors
    response = admin_client.post(url, field_post(field_type="picklist", choices_text="A\nB", default="C"))
    assert "default" in response.context["form"].errors
    assert not CustomField.objects.exists()


@pytest.mark.parametrize("field_type, good, bad", [
    (FieldType.NUMBER, "12.5", "twelve"),
    (FieldType.CURRENCY, "1000", "1,000 €"),
    (FieldType.PERCENT, "7", "7%"),
    (FieldType.DATE, "2026-11-22", "22.11.2026"),
    (FieldType.DATE, "today", "2026-02-30"),
    (FieldType.DATETIME, "2026-11-22 10:00", "tomorrow-ish"),
    (FieldType.CHECKBOX, "true", "maybe"),
    (FieldType.EMAIL, "a@b.fi", "not-an-email"),
    (FieldType.URL, "https://example.com", "example"),
    (FieldType.MULTI_PICKLIST, "A, B", "A, Z"),
])
def test_default_is_validated_against_the_type(field_type, good, bad):
    validate_default(field_type, good, ["A", "B"])
    with pytest.raises(ValidationError):
        validate_default(field_type, bad, ["A", "B"])


def test_invalid_default_is_shown_on_the_form(admin_client):
    response = admin_client.post(reverse("customization:field_create", args=["leads.lead"]),
                                 field_post(field_type="number", default="abc"))
    assert response.status_code == 200 and "default" in response.context["form"].errors


def test_api_name_is_unique_per_type_and_immutable(admin_client):
    field = CustomFieldFactory(record_type="leads.lead", name="region", label="Region")
    # a second field with the same API name on the same type is refused
    response = admin_client.post(reverse("customization:field_create", args=["leads.lead"]), field_post())
    assert "name" in response.context["form"].errors
    # editing cannot rename it, but other attributes change and are audited
    admin_client.post(reverse("customization:field_edit", args=["leads.lead", field.pk]),
                      field_post(name="renamed", label="Sales region"))
    field.refresh_from_db()
    assert field.name == "region" and field.label == "Sales region"
    row = AuditLog.objects.get(action=AuditLog.Action.CUSTOMIZATION_CHANGED)
    assert row.data["changes"]["label"] == ["Region", "Sales region"]


def test_deactivate_instead_of_delete(admin_client):
    field = CustomFieldFactory(record_type="leads.lead")
    url = reverse("customization:field_set_active", args=["leads.lead", field.pk])
    assert admin_client.get(url).status_code == 404
    admin_client.post(url, {"active": "0"})
    field.refresh_from_db()
    assert not field.is_active
    admin_client.post(url, {"active": "1"})
    field.refresh_from_db()
    assert field.is_active


def test_field_of_another_type_is_404(admin_client):
    field = CustomFieldFactory(record_type="accounts.account")
    assert admin_client.get(reverse("customization:field_edit", args=["leads.lead", field.pk])).status_code == 404
    assert admin_client.get(reverse("customization:field_list", args=["nope.nope"])).status_code == 404
