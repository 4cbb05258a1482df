import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.access.tests.factories import UserFactory, set_org_default
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_search_hides_other_reps_private_lead(client):
    # given private leads, one owned by another rep
    set_org_default("leads.lead", "private")
    me, other = UserFactory(), UserFactory()
    mine = Lead.objects.create(owner=me, created_by=me, first_name="Zebulon", last_name="Mineowner", company="Mine Ltd")
    hidden = Lead.objects.create(owner=other, created_by=other, first_name="Zebulon", last_name="Hiddenowner", company="Hidden Corp")
    client.force_login(me)
    # when I search the shared name
    body = client.get(reverse("search"), {"q": "zebulon"}).content.decode()
    # then only my lead shows
    assert str(mine) in body
    assert str(hidden) not in body


def test_timeline_create_on_invisible_record_is_404(client):
    set_org_default("leads.lead", "private")
    me, other = UserFactory(), UserFactory()
    lead = Lead.objects.create(owner=other, created_by=other, last_name="Secret", company="X")
    client.force_login(me)
    ct = ContentType.objects.get_for_model(Lead)
    url = reverse("activities:create", args=[ct.id, lead.pk, "note"])
    assert client.post(url, {"subject": "hi"}).status_code == 404
