"""Login history and audit log search: read only, filtered, paginated, query budgets."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.access import services
from crm.access.models import AuditLog, LoginEvent
from crm.access.tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = AdminFactory(email="boss@x.test")
    client.force_login(admin)
    LoginEvent.objects.all().delete()  # the sign-in above is recorded too; start these tests from none
    client.admin = admin
    return client


def test_login_history_filters(admin_client):
    user = UserFactory(email="aino@x.test")
    old = timezone.now() - datetime.timedelta(days=10)
    LoginEvent.objects.create(user=user, email=user.email, outcome="success", ip="10.0.0.1")
    LoginEvent.objects.create(email="aino@x.test", outcome="failure", ip="10.0.0.2")
    LoginEvent.objects.create(email="other@x.test", outcome="failure", created_at=old)
    url = reverse("settings:login_history")
    outcomes = lambda r: sorted(e.outcome for e in r.context["page"])  # noqa: E731
    assert outcomes(admin_client.get(url, {"user": "aino"})) == ["failure", "success"]
    assert outcomes(admin_client.get(url, {"outcome": "failure"})) == ["failure", "failure"]
    since = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    assert len(admin_client.get(url, {"date_from": since}).context["page"]) == 2
    until = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    assert [e.email for e in admin_client.get(url, {"date_to": until}).context["page"]] == ["other@x.test"]


def test_audit_log_filters(admin_client):
    admin = admin_client.admin
    other = UserFactory(email="other-admin@x.test")
    target = UserFactory(first_name="Mikko", last_name="Rep")
    services.audit(actor=admin, action=AuditLog.Action.USER_CHANGED, target=target)
    services.audit(actor=other, action=AuditLog.Action.EXPORT, target_type="leads.lead")
    url = reverse("settings:audit_log")
    actions = lambda r: [e.action for e in r.context["page"]]  # noqa: E731
    assert actions(admin_client.get(url, {"actor": "other-admin"})) == ["export"]
    assert actions(admin_client.get(url, {"action": "user_changed"})) == ["user_changed"]
    assert actions(admin_client.get(url, {"q": "mikko"})) == ["user_changed"]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert actions(admin_client.get(url, {"date_from": tomorrow})) == []


def test_log_pages_query_budget_and_pagination(admin_client, django_assert_max_num_queries):
    users = UserFactory.create_batch(3)
    for i in range(70):
        services.audit(actor=users[i % 3], action=AuditLog.Action.USER_CHANGED, target=users[i % 3], data={"i": i})
        LoginEvent.objects.create(user=users[i % 3], email=users[i % 3].email, outcome="success")
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("settings:audit_log"))
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.num_pages == 2
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("settings:login_history"), {"page": 2, "outcome": "success"})
    assert len(response.context["page"].object_list) == 20
    assert "outcome=success&amp;page=1" in response.content.decode()
