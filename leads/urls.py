from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import RedirectView

from crm.lists.views import record_list
from leads import views, views_capture, views_setup

app_name = "leads"
urlpatterns = [
    path("", record_list, {"record_type": "leads.lead"}, name="list"),
    path("new/", views.lead_create, name="create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/delete/", views.lead_delete, name="delete"),
    path("<int:pk>/field/<str:name>/", views.lead_field, name="field"),
    path("<int:pk>/stage/", views.lead_stage, name="stage"),
    path("<int:pk>/qualify/", views.lead_qualify, name="qualify"),
    path("<int:pk>/convert/", views.lead_convert_view, name="convert"),
    # Old bookmarks of the lead import: it is the shared import engine's page now.
    path("import/", login_required(RedirectView.as_view(pattern_name="imports:start")), {"slug": "leads"},
         name="import"),
    # Capture
    path("forms/", views_capture.webform_list, name="webform_list"),
    path("forms/new/", views_capture.webform_edit, name="webform_create"),
    path("forms/<int:pk>/", views_capture.webform_edit, name="webform_edit"),
    path("f/<slug:key>/", views_capture.webform_public, name="webform_public"),
    # Setup (admins)
    path("setup/qualification/", views_setup.qualification_settings, name="setup_qualification"),
    path("setup/scoring/", views_setup.scoring_rules, name="setup_scoring"),
    path("setup/scoring/new/", views_setup.scoring_rule_edit, name="setup_scoring_create"),
    path("setup/scoring/<int:pk>/", views_setup.scoring_rule_edit, name="setup_scoring_edit"),
    path("setup/scoring/rescore/", views_setup.scoring_rescore, name="setup_scoring_rescore"),
    path("setup/assignment/", views_setup.assignment_rules, name="setup_assignment"),
    path("setup/assignment/new/", views_setup.assignment_rule_edit, name="setup_assignment_create"),
    path("setup/assignment/<int:pk>/", views_setup.assignment_rule_edit, name="setup_assignment_edit"),
]
