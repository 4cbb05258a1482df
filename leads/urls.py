from django.urls import path

from leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list_view, name="list"),
    path("new/", views.lead_create, name="create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
]
