from django.urls import path

from crm.lists.views import record_list
from opportunities import views
from opportunities import views_board, views_setup

app_name = "opportunities"
urlpatterns = [
    path("", record_list, {"record_type": "opportunities.opportunity"}, name="list"),
    path("<int:pk>/", views.opportunity_detail, name="detail"),
    path("new/", views.opportunity_create, name="create"),
    path("<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("<int:pk>/delete/", views.opportunity_delete, name="delete"),
    path("<int:pk>/field/<str:name>/", views.opportunity_field, name="field"),
    path("<int:pk>/move/", views.opportunity_move, name="move"),
    path("<int:pk>/timeline/", views.opportunity_timeline, name="timeline"),
    path("<int:pk>/roles/", views.opportunity_roles, name="roles"),
    path("roles/<int:pk>/primary/", views.role_primary, name="role_primary"),
    path("roles/<int:pk>/remove/", views.role_remove, name="role_remove"),
    path("board/", views_board.board, name="board"),
    path("board/<int:pk>/move/", views_board.board_move, name="board_move"),
    path("setup/pipelines/", views_setup.pipelines, name="setup_pipelines"),
    path("setup/pipelines/new/", views_setup.pipeline_edit, name="setup_pipeline_create"),
    path("setup/pipelines/<int:pk>/", views_setup.pipeline_edit, name="setup_pipeline_edit"),
    path("setup/pipelines/<int:pipeline>/stages/new/", views_setup.stage_edit, name="setup_stage_create"),
    path("setup/stages/<int:pk>/", views_setup.stage_edit, name="setup_stage_edit"),
    path("setup/stages/<int:pk>/move/", views_setup.stage_reorder, name="setup_stage_reorder"),
    path("setup/stages/<int:pk>/delete/", views_setup.stage_delete, name="setup_stage_delete"),
]
