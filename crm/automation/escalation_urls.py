"""URLs of the escalation-rule settings pages (included by crm.automation.urls, in its namespace)."""
from django.urls import path

from crm.automation import escalation_views as views

urlpatterns = [
    path("settings/automation/escalations/", views.escalation_list, name="escalation_list"),
    path("settings/automation/escalations/new/", views.escalation_create, name="escalation_create"),
    path("settings/automation/escalations/log/", views.escalation_log, name="escalation_log"),
    path("settings/automation/escalations/log/<int:pk>/retry/", views.escalation_retry, name="escalation_retry"),
    path("settings/automation/escalations/<int:pk>/", views.escalation_edit, name="escalation_edit"),
    path("settings/automation/escalations/<int:pk>/toggle/", views.escalation_toggle, name="escalation_toggle"),
    path("settings/automation/escalations/<int:pk>/apply/", views.escalation_apply, name="escalation_apply"),
    path("settings/automation/escalations/<int:pk>/delete/", views.escalation_delete, name="escalation_delete"),
]
