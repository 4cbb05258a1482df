from django.urls import path

from crm.core import views

app_name = "core"
urlpatterns = [
    path("", views.events_page, name="events"),
    path("<int:pk>/retry/", views.event_retry, name="event_retry"),
]
