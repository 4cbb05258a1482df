"""Picklist values under /settings/customization/picklists/."""
import pytest
from django.urls import reverse

from crm.access.models import AuditLog
from crm.access.tests.factories import AdminFactory
from crm.customization import services
from crm.customization.models import PicklistValue
from crm.customization.tests.factories import PicklistValueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_seeded_values():
    """Start from no picklists: a data migration seeds the lead source and status lists."""
    PicklistValue.objects.all().delete()


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


@pytest.fixture
def source():
    return [PicklistValueFactory(picklist="leads.source", value=v, label=v.title(), order=i * 10)
            for i, v in enumerate(["web", "event", "referral"], start=1)]


def formset_post(values, **changes):
    data = {"intent": "save", "values-TOTAL_FORMS": len(values), "values-INITIAL_FORMS": len(values),
            "values-MIN_NUM_FORMS": 0, "values-MAX_NUM_FORMS": 1000}
    for i, v in enumerate(values):
        row = {"id": v.pk, "label": v.label, "label_fa": "", "label_fi": "", "order": v.order, "is_active": "on"}
        row.update(changes.get(v.value, {}))
        for key, value in row.items():
            if value is not None:
                data[f"values-{i}-{key}"] = value
    return data


def test_list_shows_human_titles(admin_client, source):
    picklists = admin_client.get(reverse("customization:picklists")).context["picklists"]
    assert [p["name"] for p in picklists] == ["leads.source"]
    assert picklists[0]["title"].lower().startswith("lead")
    assert "source" in picklists[0]["title"].lower()


def test_add_value(admin_client, source):
    url = reverse("customization:picklist", args=["leads.source"])
    admin_client.post(url, {"intent": "add", "add-value": "partner", "add-label": "Partner", "add-label_fi": "Kumppani"})
    value = PicklistValue.objects.get(picklist="leads.source", value="partner")
    assert value.label_translations == {"fi": "Kumppani"} and value.order > source[-1].order
    # a duplicate is refused
    response = admin_client.post(url, {"intent": "add", "add-value": "partner", "add-label": "Again"})
    assert "value" in response.context["add_form"].errors
    assert AuditLog.objects.filter(action=AuditLog.Action.CUSTOMIZATION_CHANGED).count() == 1


def test_rename_reorder_deactivate_and_default(admin_client, source):
    web, event, referral = source
    url = reverse("customization:picklist", args=["leads.source"])
    response = admin_client.post(url, formset_post(source, web={"label": "Website", "order": 50, "label_fa": "وب"},
                                                    event={"is_active": None}, referral={"is_default": "on"}))
    assert response.status_code == 302
    web.refresh_from_db(), event.refresh_from_db(), referral.refresh_from_db()
    assert web.label == "Website" and web.order == 50 and web.label_translations == {"fa": "وب"}
    assert not event.is_active and referral.is_default
    assert list(PicklistValue.objects.filter(picklist="leads.source", is_active=True).values_list("value", flat=True)) == ["referral", "web"]
    assert AuditLog.objects.get(action=AuditLog.Action.CUSTOMIZATION_CHANGED).data["picklist"] == "leads.source"


def test_only_one_default(admin_client, source):
    web, event, _referral = source
    url = reverse("customization:picklist", args=["leads.source"])
    response = admin_client.post(url, formset_post(source, web={"is_default": "on"}, event={"is_default": "on"}))
    assert response.status_code == 200 and response.context["formset"].non_form_errors()
    assert not PicklistValue.objects.filter(is_default=True).exists()
    # moving the default clears the old one
    admin_client.post(url, formset_post(source, web={"is_default": "on"}))
    web.refresh_from_db()
    admin_client.post(url, formset_post(PicklistValue.objects.filter(picklist="leads.source").order_by("order"),
                                        event={"is_default": "on"}, web={"is_default": None}))
    assert list(PicklistValue.objects.filter(is_default=True).values_list("value", flat=True)) == ["event"]


def test_service_refuses_two_defaults(admin_client, source):
    web, event, _ = source
    with pytest.raises(ValueError):
        services.picklist_values_update(actor=None, picklist="leads.source",
                                        rows=[{"id": web.pk, "is_default": True}, {"id": event.pk, "is_default": True}])


def test_set_default_clears_others_outside_the_edit(source):
    web, event, _ = source
    PicklistValue.objects.filter(pk=web.pk).update(is_default=True)
    services.picklist_values_update(actor=None, picklist="leads.source", rows=[{"id": event.pk, "is_default": True}])
    assert list(PicklistValue.objects.filter(is_default=True).values_list("value", flat=True)) == ["event"]


def test_inactive_default_refused(admin_client, source):
    url = reverse("customization:picklist", args=["leads.source"])
    response = admin_client.post(url, formset_post(source, web={"is_default": "on", "is_active": None}))
    assert response.context["formset"].non_form_errors()


def test_unknown_picklist_is_404(admin_client):
    assert admin_client.get(reverse("customization:picklist", args=["nope.nothing"])).status_code == 404
