"""The admins' settings area under /settings/ (custom fields and picklists: crm.customization.urls)."""
from django.urls import path

from crm.access import settings_views as views

app_name = "settings"
urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("users/<int:pk>/password-reset/", views.user_password_reset, name="user_password_reset"),
    path("roles/", views.role_list, name="roles"),
    path("roles/new/", views.role_form, name="role_create"),
    path("roles/<int:pk>/", views.role_form, name="role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("profiles/", views.profile_list, name="profiles"),
    path("profiles/new/", views.profile_form, name="profile_create"),
    path("profiles/<int:pk>/", views.profile_form, name="profile_edit"),
    path("profiles/<int:pk>/fields/<str:record_type>/", views.profile_fields, name="profile_fields"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_form, name="team_create"),
    path("teams/<int:pk>/", views.team_form, name="team_edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("org-defaults/", views.org_defaults, name="org_defaults"),
    path("sharing/", views.sharing_rule_list, name="sharing_rules"),
    path("sharing/new/<str:record_type>/", views.sharing_rule_form, name="sharing_rule_create"),
    path("sharing/<int:pk>/", views.sharing_rule_form, name="sharing_rule_edit"),
    path("sharing/<int:pk>/delete/", views.sharing_rule_delete, name="sharing_rule_delete"),
    path("access/explain/", views.explain, name="explain"),
    path("login-history/", views.login_history, name="login_history"),
    path("audit-log/", views.audit_log, name="audit_log"),
]
