"""URLs of the workflow-rule settings pages (included by crm.automation.urls, in its namespace)."""
from django.urls import path

from crm.automation import rule_views as views

urlpatterns = [
    path("settings/automation/rules/", views.rule_list, name="rule_list"),
    path("settings/automation/rules/new/", views.rule_create, name="rule_create"),
    path("settings/automation/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("settings/automation/rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("settings/automation/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("settings/automation/rules/<int:pk>/test/", views.rule_test, name="rule_test"),
    path("settings/automation/rules/<int:pk>/apply/", views.rule_apply, name="rule_apply"),
    path("settings/automation/log/", views.run_list, name="run_list"),
    path("settings/automation/log/<int:pk>/", views.run_detail, name="run_detail"),
    path("settings/automation/failed/", views.failed_runs, name="failed_runs"),
    path("settings/automation/failed/<int:pk>/retry/", views.action_retry, name="action_retry"),
    path("settings/automation/", views.health, name="health"),
]
