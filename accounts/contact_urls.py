"""Contacts live at /contacts/ (the old /accounts/contacts/ URLs redirect here)."""
from django.urls import path

from accounts import views
from crm.lists.views import record_list

app_name = "contacts"
urlpatterns = [
    path("", record_list, {"record_type": "accounts.contact"}, name="list"),
    path("new/", views.contact_create, name="create"),
    path("vcard/", views.contacts_vcard, name="vcard"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("<int:pk>/field/<str:name>/", views.contact_field, name="field"),
    path("<int:pk>/timeline/", views.contact_timeline, name="timeline"),
    path("<int:pk>/roles/", views.contact_roles, name="roles"),
    path("<int:pk>/vcard/", views.contact_vcard, name="vcard_one"),
]
