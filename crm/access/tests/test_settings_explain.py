"""'Why can this user see this?': the grants from visibility.explain per action."""
import pytest
from django.urls import reverse

from crm.access.models import Access
from crm.access.tests.factories import AdminFactory, ProfileFactory, RoleFactory, UserFactory, set_org_default
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(client):
    set_org_default("leads.lead", Access.PRIVATE)
    manager_role = RoleFactory(name="Sales manager")
    rep_role = RoleFactory(name="Sales rep", parent=manager_role)
    profile = ProfileFactory(record_types=["leads.lead"])
    o = type("Org", (), {})()
    o.manager = UserFactory(role=manager_role, profile=profile)
    o.rep = UserFactory(role=rep_role, profile=profile)
    o.peer = UserFactory(role=rep_role, profile=profile)
    o.lead = Lead.objects.create(last_name="Owned", company="Acme", owner=o.rep)
    client.force_login(AdminFactory())
    return o


def explain(client, user, lead):
    response = client.get(reverse("settings:explain"), {"user": user.pk, "type": "leads.lead", "id": lead.pk})
    assert response.status_code == 200
    return response


def reasons(response):
    return {str(label): [g.reason for g in grants] for label, grants, _allowed in response.context["result"]["actions"]}


def test_owner(client, org):
    response = explain(client, org.rep, org.lead)
    assert reasons(response) == {"View": ["owner"], "Edit": ["owner"]}
    assert "Owner of the record" in response.content.decode()


def test_manager_through_the_hierarchy(client, org):
    response = explain(client, org.manager, org.lead)
    assert reasons(response) == {"View": ["hierarchy"], "Edit": ["hierarchy"]}
    assert "Sales manager" in response.content.decode()


def test_peer_has_no_access(client, org):
    response = explain(client, org.peer, org.lead)
    assert reasons(response) == {"View": [], "Edit": []}
    assert response.content.decode().count("No access.") == 2


def test_unknown_record_is_a_form_error(client, org):
    response = client.get(reverse("settings:explain"), {"user": org.rep.pk, "type": "leads.lead", "id": 999999})
    assert "id" in response.context["form"].errors and response.context["result"] is None


def test_empty_form_renders(client, org):
    response = client.get(reverse("settings:explain"))
    assert response.status_code == 200 and response.context["result"] is None


def test_record_pages_link_with_type_and_id_prefilled(client, org):
    response = client.get(reverse("settings:explain"), {"type": "leads.lead", "id": org.lead.pk})
    form = response.context["form"]
    assert not form.is_bound and form.initial == {"type": "leads.lead", "id": str(org.lead.pk)}
    assert f'value="{org.lead.pk}"' in response.content.decode()
