from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list_view, name="list"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("contacts/", views.contact_list_view, name="contact_list"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
]
