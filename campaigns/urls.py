from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaigns_home, name="list"),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_create_view, name="segment_create"),
    path("segments/counts/", views.segment_counts, name="segment_counts"),
    path("segments/preview/", views.segment_preview, name="segment_preview"),
    path("segments/lookup/", views.segment_lookup, name="segment_lookup"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/count/", views.segment_count, name="segment_count"),
    path("segments/<int:pk>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/copy/", views.segment_copy_view, name="segment_copy"),
    path("segments/<int:pk>/campaign/", views.segment_campaign_view, name="segment_campaign"),
    path("segments/<int:pk>/delete/", views.segment_delete_view, name="segment_delete"),
]
