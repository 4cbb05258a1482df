from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import RedirectView

from accounts import views
from crm.lists.views import record_list

app_name = "accounts"
urlpatterns = [
    path("", record_list, {"record_type": "accounts.account"}, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/delete/", views.account_delete, name="delete"),
    path("<int:pk>/field/<str:name>/", views.account_field, name="field"),
    path("<int:pk>/timeline/", views.account_timeline, name="timeline"),
    path("<int:pk>/roles/", views.account_roles, name="roles"),
    path("roles/<int:pk>/primary/", views.role_primary, name="role_primary"),
    path("roles/<int:pk>/remove/", views.role_remove, name="role_remove"),
    # Contacts moved to /contacts/: old links and bookmarks keep working (query strings kept).
    path("contacts/", login_required(RedirectView.as_view(pattern_name="contacts:list", permanent=True,
                                                          query_string=True)), name="contact_list_moved"),
    path("contacts/<int:pk>/", login_required(RedirectView.as_view(pattern_name="contacts:detail", permanent=True,
                                                                   query_string=True)), name="contact_detail_moved"),
]
