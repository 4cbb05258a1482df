from django.urls import path

from crm.lists.views import record_list
from opportunities import views

app_name = "opportunities"
urlpatterns = [
    path("", record_list, {"record_type": "opportunities.opportunity"}, name="list"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
]
