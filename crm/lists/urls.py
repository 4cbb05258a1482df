from django.urls import path

from crm.lists import views

app_name = "lists"
urlpatterns = [
    path("<slug:record_type>/bulk/", views.bulk, name="bulk"),
    path("<slug:record_type>/views/save/", views.view_save, name="view_save"),
    path("views/<int:pk>/delete/", views.view_delete, name="view_delete"),
    path("<slug:record_type>/lookup/", views.lookup, name="lookup"),
]
