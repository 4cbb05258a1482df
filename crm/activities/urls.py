from django.urls import path

from crm.activities import views

app_name = "activities"
urlpatterns = [
    path("new/<int:ct_id>/<int:obj_id>/<str:kind>/", views.create, name="create"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/", views.go, name="go"),
]
