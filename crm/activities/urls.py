from django.urls import path, re_path

from crm.activities import views

app_name = "activities"
urlpatterns = [
    path("new/<int:ct_id>/<int:obj_id>/<str:kind>/", views.create, name="create"),
    path("new/<int:ct_id>/<int:obj_id>/email/template/", views.email_template_fill, name="email_template"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/go/", views.go, name="go"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/invitation.ics", views.invitation, name="invitation"),
    path("<int:pk>/respond/", views.respond, name="respond"),
    path("my-day/", views.my_day, name="my_day"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/feed/", views.feed_settings, name="feed_settings"),
    path("calendar/feed/new/", views.feed_rotate, name="feed_rotate"),
    path("calendar/feed/revoke/", views.feed_revoke, name="feed_revoke"),
    # The subscribed feed: no session, the secret is the address (its shape checked before any lookup).
    re_path(r"^feed/(?P<token>[0-9]{1,18}-[0-9a-f]{64})\.ics$", views.feed, name="feed"),
]
