from django.urls import include, path

from crm.automation import views

app_name = "automation"
urlpatterns = [
    path("settings/business-hours/", views.calendar_list, name="calendar_list"),
    path("settings/business-hours/new/", views.calendar_edit, name="calendar_create"),
    path("settings/business-hours/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("settings/business-hours/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("settings/business-hours/<int:pk>/holidays/", views.holiday_add, name="holiday_add"),
    path("settings/business-hours/<int:pk>/holidays/<int:holiday_pk>/delete/", views.holiday_delete,
         name="holiday_delete"),
    path("", include("crm.automation.rule_urls")),  # workflow rules
    path("", include("crm.automation.autoresponder_urls")),  # auto-responders
    path("", include("crm.automation.escalation_urls")),  # escalation rules
]
