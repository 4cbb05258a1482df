from django.urls import path

from crm.imports import views

app_name = "imports"
urlpatterns = [
    path("job/<int:pk>/", views.detail, name="detail"),
    path("job/<int:pk>/run/", views.run, name="run"),
    path("job/<int:pk>/progress/", views.progress, name="progress"),
    path("<slug:slug>/", views.start, name="start"),
]
