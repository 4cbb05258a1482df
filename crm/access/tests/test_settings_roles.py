"""The role hierarchy under /settings/roles/."""
import pytest
from django.urls import reverse

from crm.access.models import AuditLog, Role
from crm.access.tests.factories import AdminFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def test_tree_is_nested(admin_client):
    # given CEO → Sales manager → Rep
    ceo = RoleFactory(name="CEO")
    manager = RoleFactory(name="Sales manager", parent=ceo)
    RoleFactory(name="Rep", parent=manager)
    # when the roles page renders, then each level is a nested list
    response = admin_client.get(reverse("settings:roles"))
    tree = response.context["tree"]
    assert tree[0]["role"] == ceo and tree[0]["children"][0]["role"] == manager
    assert tree[0]["children"][0]["children"][0]["role"].name == "Rep"
    assert response.content.decode().count('<ul class="list-unstyled ps-4">') == 2


def test_create_child_and_rename(admin_client):
    ceo = RoleFactory(name="CEO")
    # when a role is created under the CEO
    admin_client.post(reverse("settings:role_create"), {"name": "VP Sales", "parent": ceo.pk, "description": ""})
    vp = Role.objects.get(name="VP Sales")
    assert vp.parent == ceo and vp.path == f"{ceo.path}{vp.pk}/"
    # when it is renamed
    admin_client.post(reverse("settings:role_edit", args=[vp.pk]), {"name": "VP of Sales", "parent": ceo.pk, "description": ""})
    vp.refresh_from_db()
    assert vp.name == "VP of Sales"
    assert AuditLog.objects.filter(action=AuditLog.Action.ROLE_CHANGED, target_id=str(vp.pk)).count() == 2
    rename = AuditLog.objects.filter(action=AuditLog.Action.ROLE_CHANGED, target_id=str(vp.pk)).latest("created_at")
    assert rename.data["before"]["name"] == "VP Sales" and rename.data["after"]["name"] == "VP of Sales"


def test_move_under_another_parent_rebuilds_paths(admin_client):
    a, b = RoleFactory(name="A"), RoleFactory(name="B")
    child = RoleFactory(name="Child", parent=a)
    grandchild = RoleFactory(name="Grandchild", parent=child)
    admin_client.post(reverse("settings:role_edit", args=[child.pk]), {"name": "Child", "parent": b.pk, "description": ""})
    grandchild.refresh_from_db()
    assert grandchild.path == f"{b.path}{child.pk}/{grandchild.pk}/"


def test_cycle_is_refused_with_a_form_error(admin_client):
    # given A → B
    a = RoleFactory(name="A")
    b = RoleFactory(name="B", parent=a)
    # when A is moved under its own child B
    response = admin_client.post(reverse("settings:role_edit", args=[a.pk]), {"name": "A", "parent": b.pk, "description": ""})
    # then the form shows an error and nothing moved
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    a.refresh_from_db()
    assert a.parent is None


def test_service_refuses_cycle_even_past_the_form():
    from crm.access import services

    a = RoleFactory(name="A")
    b = RoleFactory(name="B", parent=a)
    with pytest.raises(ValueError):
        services.role_update(actor=None, role=a, name="A", parent=b)


def test_delete_only_when_empty(admin_client):
    parent = RoleFactory(name="Parent")
    RoleFactory(name="Kid", parent=parent)
    staffed = RoleFactory(name="Staffed")
    UserFactory(role=staffed)
    empty = RoleFactory(name="Empty")
    # when deleting a role with children or users, then it stays with a message
    for role in (parent, staffed):
        response = admin_client.post(reverse("settings:role_delete", args=[role.pk]), follow=True)
        assert Role.objects.filter(pk=role.pk).exists()
        assert any(m.level_tag == "error" for m in response.context["messages"])
    # when deleting an empty role, then it is gone and audited
    admin_client.post(reverse("settings:role_delete", args=[empty.pk]))
    assert not Role.objects.filter(pk=empty.pk).exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.ROLE_CHANGED, data__deleted=True, target_id=str(empty.pk)).exists()
