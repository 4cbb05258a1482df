"""Rights on the settings area: each section needs its right; everyone else gets 404."""
import pytest
from django.urls import reverse

from crm.access.models import Role, SharingRule, Team
from crm.access.tests.factories import AdminFactory, ProfileFactory, RoleFactory, SharingRuleFactory, TeamFactory, UserFactory
from crm.customization.tests.factories import CustomFieldFactory, PicklistValueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects():
    role = RoleFactory(name="Sales")
    team = TeamFactory()
    rule = SharingRuleFactory(source_role=role, target_role=role)
    profile = ProfileFactory()
    user = UserFactory(role=role, profile=profile)
    field = CustomFieldFactory(record_type="leads.lead")
    PicklistValueFactory(picklist="leads.source", value="web")
    return dict(role=role, team=team, rule=rule, profile=profile, user=user, field=field)


def settings_urls(o):
    """(url, right, method) for every page of the settings area."""
    u, r, p = o["user"].pk, o["role"].pk, o["profile"].pk
    return [
        (reverse("settings:users"), "manage_users", "get"),
        (reverse("settings:user_create"), "manage_users", "get"),
        (reverse("settings:user_edit", args=[u]), "manage_users", "get"),
        (reverse("settings:user_set_active", args=[u]), "manage_users", "post"),
        (reverse("settings:user_unlock", args=[u]), "manage_users", "post"),
        (reverse("settings:user_password_reset", args=[u]), "manage_users", "post"),
        (reverse("settings:roles"), "manage_access", "get"),
        (reverse("settings:role_create"), "manage_access", "get"),
        (reverse("settings:role_edit", args=[r]), "manage_access", "get"),
        (reverse("settings:role_delete", args=[r]), "manage_access", "post"),
        (reverse("settings:profiles"), "manage_access", "get"),
        (reverse("settings:profile_create"), "manage_access", "get"),
        (reverse("settings:profile_edit", args=[p]), "manage_access", "get"),
        (reverse("settings:profile_fields", args=[p, "leads.lead"]), "manage_access", "get"),
        (reverse("settings:teams"), "manage_access", "get"),
        (reverse("settings:team_create"), "manage_access", "get"),
        (reverse("settings:team_edit", args=[o["team"].pk]), "manage_access", "get"),
        (reverse("settings:team_delete", args=[o["team"].pk]), "manage_access", "post"),
        (reverse("settings:org_defaults"), "manage_access", "get"),
        (reverse("settings:sharing_rules"), "manage_access", "get"),
        (reverse("settings:sharing_rule_create", args=["leads.lead"]), "manage_access", "get"),
        (reverse("settings:sharing_rule_edit", args=[o["rule"].pk]), "manage_access", "get"),
        (reverse("settings:sharing_rule_delete", args=[o["rule"].pk]), "manage_access", "post"),
        (reverse("settings:explain"), "manage_access", "get"),
        (reverse("settings:login_history"), "view_audit_log", "get"),
        (reverse("settings:audit_log"), "view_audit_log", "get"),
        (reverse("core:events"), "view_audit_log", "get"),
        (reverse("customization:field_list", args=["leads.lead"]), "manage_customization", "get"),
        (reverse("customization:field_create", args=["leads.lead"]), "manage_customization", "get"),
        (reverse("customization:field_edit", args=["leads.lead", o["field"].pk]), "manage_customization", "get"),
        (reverse("customization:field_set_active", args=["leads.lead", o["field"].pk]), "manage_customization", "post"),
        (reverse("customization:picklists"), "manage_customization", "get"),
        (reverse("customization:picklist", args=["leads.source"]), "manage_customization", "get"),
    ]


def test_every_settings_url_is_covered_here():
    from crm.access import settings_urls
    from crm.customization import urls as customization_urls

    # given the URL patterns of both settings modules
    names = {p.name for p in settings_urls.urlpatterns} | {p.name for p in customization_urls.urlpatterns}
    # then the walk below knows each of them (the two redirects/indexes are tested separately)
    covered = {"index", "users", "user_create", "user_edit", "user_set_active", "user_unlock", "user_password_reset",
               "roles", "role_create", "role_edit", "role_delete", "profiles", "profile_create", "profile_edit",
               "profile_fields", "teams", "team_create", "team_edit", "team_delete", "org_defaults", "sharing_rules",
               "sharing_rule_create", "sharing_rule_edit", "sharing_rule_delete", "explain", "login_history",
               "audit_log", "fields", "field_list", "field_create", "field_edit", "field_set_active", "picklists", "picklist"}
    assert names == covered


def test_a_user_without_rights_gets_404_everywhere(client, objects):
    # given a plain user (profile with record permissions only)
    client.force_login(UserFactory())
    # when they open any settings page, then each answers 404 and nothing changes
    for url, _right, method in [(reverse("settings:index"), None, "get"), (reverse("customization:fields"), None, "get"),
                                *settings_urls(objects)]:
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
    assert Role.objects.filter(pk=objects["role"].pk).exists()
    assert Team.objects.filter(pk=objects["team"].pk).exists()
    assert SharingRule.objects.filter(pk=objects["rule"].pk).exists()


@pytest.mark.parametrize("right", ["manage_users", "manage_access", "manage_customization", "view_audit_log"])
def test_each_right_opens_only_its_own_sections(client, objects, right):
    # given a user whose profile has exactly one right
    client.force_login(UserFactory(profile=ProfileFactory(**{right: True})))
    for url, needed, method in settings_urls(objects):
        if method != "get":
            continue
        # when they open each page, then only their sections answer
        expected = 200 if needed == right else 404
        assert client.get(url).status_code == expected, url
    # and the index lists only that section
    index = client.get(reverse("settings:index"))
    assert index.status_code == 200
    from crm.core.settings_sections import sections

    expected_keys = [s.key for s in sections() if s.right == right]
    assert [s["key"] for s in index.context["settings_sections"]] == expected_keys


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("settings:users"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_admin_opens_every_page(client, objects):
    client.force_login(AdminFactory())
    for url, _right, method in settings_urls(objects):
        if method == "get":
            assert client.get(url).status_code == 200, url
    assert client.get(reverse("settings:index")).status_code == 200
    assert client.get(reverse("customization:fields")).status_code == 302


def test_right_required_mixin(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404, HttpResponse
    from django.views import View

    from crm.access.settings_views import RightRequiredMixin

    class Page(RightRequiredMixin, View):
        required_rights = ("manage_access",)

        def get(self, request):
            return HttpResponse("ok")

    request = rf.get("/x/")
    request.user = UserFactory(profile=ProfileFactory(manage_access=True))
    assert Page.as_view()(request).status_code == 200
    request.user = UserFactory(profile=ProfileFactory(manage_users=True))
    with pytest.raises(Http404):
        Page.as_view()(request)
    request.user = AnonymousUser()
    assert Page.as_view()(request).status_code == 302
