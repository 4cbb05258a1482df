"""URLs of the auto-responder settings pages (included by crm.automation.urls, in its namespace)."""
from django.urls import path

from crm.automation import autoresponder_views as views

urlpatterns = [
    path("settings/automation/auto-responders/", views.autoresponder_list, name="autoresponder_list"),
    path("settings/automation/auto-responders/new/", views.autoresponder_create, name="autoresponder_create"),
    path("settings/automation/auto-responders/test/", views.autoresponder_test, name="autoresponder_test"),
    path("settings/automation/auto-responders/log/", views.autoresponse_log, name="autoresponse_log"),
    path("settings/automation/auto-responders/log/<int:pk>/retry/", views.autoresponse_retry,
         name="autoresponse_retry"),
    path("settings/automation/auto-responders/<int:pk>/", views.autoresponder_edit, name="autoresponder_edit"),
    path("settings/automation/auto-responders/<int:pk>/toggle/", views.autoresponder_toggle,
         name="autoresponder_toggle"),
    path("settings/automation/auto-responders/<int:pk>/move/", views.autoresponder_move, name="autoresponder_move"),
    path("settings/automation/auto-responders/<int:pk>/delete/", views.autoresponder_delete,
         name="autoresponder_delete"),
]
