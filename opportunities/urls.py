from django.urls import path

from opportunities import views

app_name = "opportunities"
urlpatterns = [
    path("", views.opportunity_list_view, name="list"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
]
