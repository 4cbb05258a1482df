from django.urls import path

from crm.automation import views_approvals as views

app_name = "approvals"
urlpatterns = [
    path("approvals/", views.inbox, name="inbox"),
    path("approvals/tasks/<int:pk>/decide/", views.decide, name="decide"),
    path("approvals/requests/<int:pk>/", views.request_detail, name="request"),
    path("approvals/requests/<int:pk>/recall/", views.recall, name="recall"),
    path("approvals/submit/<str:record_type>/<int:pk>/", views.submit, name="submit"),
    path("approvals/delegations/", views.delegation_add, name="delegation_add"),
    path("approvals/delegations/<int:pk>/remove/", views.delegation_remove, name="delegation_remove"),
    path("approvals/link/<str:token>/", views.email_link, name="email_link"),
    path("settings/approval-processes/", views.process_list, name="process_list"),
    path("settings/approval-processes/new/", views.process_edit, name="process_create"),
    path("settings/approval-processes/<int:pk>/", views.process_edit, name="process_edit"),
    path("settings/approval-processes/<int:process_pk>/steps/new/", views.step_edit, name="step_create"),
    path("settings/approval-processes/<int:process_pk>/steps/<int:pk>/", views.step_edit, name="step_edit"),
    path("settings/approval-processes/<int:process_pk>/steps/<int:pk>/delete/", views.step_delete, name="step_delete"),
]
