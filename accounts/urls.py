from django.urls import path

from accounts import views
from crm.lists.views import record_list

app_name = "accounts"
urlpatterns = [
    path("", record_list, {"record_type": "accounts.account"}, name="list"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("contacts/", record_list, {"record_type": "accounts.contact"}, name="contact_list"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
]
