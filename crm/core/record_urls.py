from django.urls import path

from crm.core import record_views

app_name = "records"
urlpatterns = [
    path("<slug:slug>/<int:pk>/duplicates/", record_views.duplicates_panel, name="duplicates"),
    path("<slug:slug>/duplicate-check/", record_views.duplicate_check, name="duplicate_check"),
    path("<slug:slug>/<int:pk>/merge/", record_views.merge, name="merge"),
    path("<slug:slug>/<int:pk>/history/", record_views.history, name="history"),
]
