"""Permission profiles: rights, the record-type matrix and field-level security."""
import pytest
from django.urls import reverse

from crm.access.models import AuditLog, FieldPermission, ObjectPermission, PermissionProfile
from crm.access.tests.factories import AdminFactory, ProfileFactory, UserFactory
from crm.core import records
from crm.customization.tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def profile_post(name="Reps", grants=None, **rights):
    data = {"name": name, "description": "", **{k: "on" for k, v in rights.items() if v}}
    for key, actions in (grants or {}).items():
        for action in actions:
            data[f"perm__{key}__{action}"] = "on"
    return data


def test_create_saves_rights_and_matrix(admin_client):
    # when a profile is created with view/edit on leads and view on accounts
    response = admin_client.post(reverse("settings:profile_create"), profile_post(
        grants={"leads.lead": ["view", "create", "edit"], "accounts.account": ["view"]}, manage_users=True))
    # then one ObjectPermission row per registered type holds exactly what was ticked
    profile = PermissionProfile.objects.get(name="Reps")
    assert response.status_code == 302 and profile.manage_users and not profile.manage_access
    rows = {r.record_type: r for r in ObjectPermission.objects.filter(profile=profile)}
    assert set(rows) == {rt.key for rt in records.all_types()}
    assert (rows["leads.lead"].can_view, rows["leads.lead"].can_edit, rows["leads.lead"].can_delete) == (True, True, False)
    assert rows["accounts.account"].can_view and not rows["accounts.account"].can_create
    assert not rows["opportunities.opportunity"].can_view
    # and the user with the profile gets exactly that
    user = UserFactory(profile=profile)
    assert user.can("leads.lead", "edit") and not user.can("leads.lead", "delete")
    assert AuditLog.objects.filter(action=AuditLog.Action.PROFILE_CHANGED, target_id=str(profile.pk)).exists()


def test_edit_records_before_and_after(admin_client):
    profile = ProfileFactory(name="Support", record_types=["leads.lead"])
    admin_client.post(reverse("settings:profile_edit", args=[profile.pk]), profile_post(
        name="Support", grants={"leads.lead": ["view"]}))
    row = ObjectPermission.objects.get(profile=profile, record_type="leads.lead")
    assert row.can_view and not row.can_edit
    audit = AuditLog.objects.filter(action=AuditLog.Action.PROFILE_CHANGED, target_id=str(profile.pk)).latest("created_at")
    assert "edit" in audit.data["before"]["objects"]["leads.lead"]
    assert audit.data["after"]["objects"]["leads.lead"] == ["view"]


def test_actions_without_view_are_refused(admin_client):
    response = admin_client.post(reverse("settings:profile_create"), profile_post(grants={"leads.lead": ["edit"]}))
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not PermissionProfile.objects.filter(name="Reps").exists()


def test_field_level_security_lists_model_and_custom_fields_and_saves_rows(admin_client):
    # given a profile and an active and an inactive custom field on leads
    profile = ProfileFactory(record_types=["leads.lead"])
    CustomFieldFactory(record_type="leads.lead", name="region", label="Region")
    CustomFieldFactory(record_type="leads.lead", name="old", label="Old", is_active=False)
    url = reverse("settings:profile_fields", args=[profile.pk, "leads.lead"])
    # when the page renders, then every registered field and the active custom field are listed
    page = admin_client.get(url)
    names = [name for name, _field in page.context["form"].rows()]
    assert names[: len(records.get("leads.lead").fields)] == list(records.get("leads.lead").fields)
    assert "cf_region" in names and "cf_old" not in names
    assert "Annual revenue" in page.content.decode() or "annual revenue" in page.content.decode().lower()
    # when email is hidden, score read-only, region read-only
    data = {f"fls__{n}": "" for n in names}
    data.update({"fls__email": "hidden", "fls__score": "read_only", "fls__cf_region": "read_only"})
    admin_client.post(url, data)
    # then rows exist only for the restricted fields
    rows = dict(FieldPermission.objects.filter(profile=profile, record_type="leads.lead").values_list("field_name", "access"))
    assert rows == {"email": "hidden", "score": "read_only", "cf_region": "read_only"}
    # when email is made editable again, then its row is gone
    data["fls__email"] = ""
    admin_client.post(url, data)
    assert not FieldPermission.objects.filter(profile=profile, field_name="email").exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.PROFILE_CHANGED, data__record_type="leads.lead").count() == 2
    # and visibility reads it for a user of the profile
    from crm.access import visibility

    user = UserFactory(profile=profile)
    assert visibility.field_access(user, "leads.lead") == {"score": "read_only", "cf_region": "read_only"}


def test_unknown_record_type_is_404(admin_client):
    profile = ProfileFactory()
    assert admin_client.get(reverse("settings:profile_fields", args=[profile.pk, "nope.nope"])).status_code == 404
