"""Custom fields and picklists administration, under /settings/customization/."""
from django.urls import path

from crm.customization import views

app_name = "customization"
urlpatterns = [
    path("fields/", views.field_list, name="fields"),
    path("fields/<str:record_type>/", views.field_list, name="field_list"),
    path("fields/<str:record_type>/new/", views.field_form, name="field_create"),
    path("fields/<str:record_type>/<int:pk>/", views.field_form, name="field_edit"),
    path("fields/<str:record_type>/<int:pk>/active/", views.field_set_active, name="field_set_active"),
    path("picklists/", views.picklist_list, name="picklists"),
    path("picklists/<str:name>/", views.picklist_detail, name="picklist"),
]
