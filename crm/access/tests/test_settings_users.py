"""Users under /settings/users/: list, create, edit, deactivate (sessions end), unlock."""
import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.access.models import AuditLog, User
from crm.access.tests.factories import AdminFactory, ProfileFactory, RoleFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = AdminFactory(email="admin@x.test")
    client.force_login(admin)
    client.admin = admin
    return client


def user_post(**overrides):
    data = {"email": "New.Person@X.test", "first_name": "New", "last_name": "Person", "title": "Rep", "phone": "",
            "role": "", "profile": "", "language": "en", "timezone": "Europe/Helsinki", "is_active": "on",
            "password_mode": "email", "password": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_list_searches_and_filters(admin_client):
    # given users in two roles, one inactive
    sales, support = RoleFactory(name="Sales"), RoleFactory(name="Support")
    UserFactory(first_name="Aino", last_name="Virtanen", role=sales)
    UserFactory(first_name="Dariush", last_name="Karimi", role=support)
    UserFactory(first_name="Old", last_name="Timer", role=sales, is_active=False)
    url = reverse("settings:users")
    # when searching by name, then only the match is listed
    names = lambda r: [u.first_name for u in r.context["page"]]  # noqa: E731
    assert names(admin_client.get(url, {"q": "virta"})) == ["Aino"]
    # when filtering by role and status
    assert names(admin_client.get(url, {"role": sales.pk, "is_active": "1"})) == ["Aino"]
    assert names(admin_client.get(url, {"is_active": "0"})) == ["Old"]


def test_list_sorts_by_column(admin_client):
    UserFactory(first_name="Bea", email="a@x.test")
    UserFactory(first_name="Ada", email="b@x.test")
    url = reverse("settings:users")
    emails = lambda r: [u.email for u in r.context["page"] if u.email.endswith("@x.test") and u.email != "admin@x.test"]  # noqa: E731
    assert emails(admin_client.get(url)) == ["b@x.test", "a@x.test"]
    assert emails(admin_client.get(url, {"sort": "email"})) == ["a@x.test", "b@x.test"]
    assert emails(admin_client.get(url, {"sort": "-email"})) == ["b@x.test", "a@x.test"]
    assert admin_client.get(url, {"sort": "password"}).status_code == 200


def test_deactivating_through_the_edit_form_ends_sessions(admin_client, django_capture_on_commit_callbacks):
    user = UserFactory(email="leaver@x.test")
    Client().force_login(user)
    data = user_post(email=user.email, first_name=user.first_name, last_name=user.last_name, is_active=None)
    data.pop("password_mode"), data.pop("password")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("settings:user_edit", args=[user.pk]), data)
    assert str(user.pk) not in [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]


def test_list_query_budget(admin_client, django_assert_max_num_queries):
    # given 60 users (more than a page)
    role, profile = RoleFactory(), ProfileFactory(record_types=[])
    UserFactory.create_batch(60, role=role, profile=profile)
    # when the list renders, then the query count does not grow with the rows
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("settings:users"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50


def test_htmx_request_gets_only_the_results_fragment(admin_client):
    response = admin_client.get(reverse("settings:users"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content and b'id="user-results"' in response.content


def test_create_with_reset_email(admin_client):
    # given a role, a profile and a team
    role, profile, team = RoleFactory(), ProfileFactory(), TeamFactory()
    # when the admin creates a user who gets an email link
    response = admin_client.post(reverse("settings:user_create"), user_post(
        role=role.pk, profile=profile.pk, teams=[team.pk]), REMOTE_ADDR="10.1.2.3")
    # then the user exists, lower-cased, without a usable password, in the team
    user = User.objects.get(email="new.person@x.test")
    assert response.status_code == 302
    assert user.role == role and user.profile == profile and list(user.teams.all()) == [team]
    assert not user.has_usable_password()
    # and the email went out, and the audit row names the actor and IP
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@x.test"]
    row = AuditLog.objects.get(action=AuditLog.Action.USER_CHANGED, target_id=str(user.pk))
    assert row.actor == admin_client.admin and row.ip == "10.1.2.3" and row.data["created"] is True


def test_create_with_initial_password(admin_client):
    response = admin_client.post(reverse("settings:user_create"), user_post(password_mode="set", password="Long-enough-pass-2026"))
    assert response.status_code == 302
    assert User.objects.get(email="new.person@x.test").check_password("Long-enough-pass-2026")
    assert mail.outbox == []


def test_create_refuses_missing_password_and_duplicate_email(admin_client):
    UserFactory(email="taken@x.test")
    response = admin_client.post(reverse("settings:user_create"), user_post(password_mode="set", email="TAKEN@x.test"))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"email", "password"}


def test_edit_writes_changes_to_the_audit_log(admin_client):
    # given a user
    user = UserFactory(title="Rep", email="edit.me@x.test")
    # when the admin changes the title
    data = user_post(email=user.email, first_name=user.first_name, last_name=user.last_name, title="Senior rep")
    data.pop("password_mode"), data.pop("password")
    response = admin_client.post(reverse("settings:user_edit", args=[user.pk]), data)
    # then it is saved and audited with before/after
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.title == "Senior rep"
    row = AuditLog.objects.filter(action=AuditLog.Action.USER_CHANGED, target_id=str(user.pk)).latest("created_at")
    assert row.data["changes"]["title"] == ["Rep", "Senior rep"]


def test_deactivation_ends_the_users_sessions(admin_client):
    # given a user signed in on another browser
    user = UserFactory(email="leaving@x.test")
    other = Client()
    other.force_login(user)
    assert any(s.get_decoded().get("_auth_user_id") == str(user.pk) for s in Session.objects.all())
    # when the admin deactivates them
    response = admin_client.post(reverse("settings:user_set_active", args=[user.pk]), {"active": "0"})
    # then they are inactive, their sessions are gone, the admin's own session stays
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    owners = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(user.pk) not in owners and str(admin_client.admin.pk) in owners
    assert AuditLog.objects.filter(action=AuditLog.Action.USER_CHANGED, target_id=str(user.pk),
                                   data__changes__is_active=[True, False]).exists()
    # and reactivation works
    admin_client.post(reverse("settings:user_set_active", args=[user.pk]), {"active": "1"})
    user.refresh_from_db()
    assert user.is_active


def test_admin_cannot_deactivate_themselves(admin_client):
    admin_client.post(reverse("settings:user_set_active", args=[admin_client.admin.pk]), {"active": "0"})
    admin_client.admin.refresh_from_db()
    assert admin_client.admin.is_active


def test_unlock_clears_axes_attempts(admin_client):
    from axes.models import AccessAttempt

    # given a locked-out user
    user = UserFactory(email="locked@x.test")
    AccessAttempt.objects.create(username=user.email, ip_address="10.0.0.9", user_agent="pytest",
                                 failures_since_start=50, get_data="", post_data="", http_accept="", path_info="/login/")
    page = admin_client.get(reverse("settings:user_edit", args=[user.pk]))
    assert page.context["locked_out"] is True
    # when the admin unlocks the account
    admin_client.post(reverse("settings:user_unlock", args=[user.pk]))
    # then the attempts are gone and the unlock is audited
    assert not AccessAttempt.objects.filter(username=user.email).exists()
    assert AuditLog.objects.filter(target_id=str(user.pk), data__unlocked=True).exists()


def test_password_reset_email(admin_client):
    user = UserFactory(email="forgot@x.test")
    admin_client.post(reverse("settings:user_password_reset", args=[user.pk]))
    assert [m.to for m in mail.outbox] == [["forgot@x.test"]]
