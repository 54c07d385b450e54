"""The intranet's tasks, under /staff/intranet/tasks/."""

from django.urls import path

from cetatea.intranet.tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.index, name="index"),
    path("boards/new/", views.board_create, name="board_create"),
    path("boards/<int:board_id>/", views.board, name="board"),
    path("boards/<int:board_id>/list/", views.board_list, name="board_list"),
    path("boards/<int:board_id>/settings/", views.board_settings, name="board_settings"),
    path("boards/<int:board_id>/new/", views.task_create, name="task_create"),
    path("from-case/", views.task_create_from_case, name="create_from_case"),
    path("<int:task_id>/", views.task, name="task"),
    path("<int:task_id>/move/", views.task_move, name="task_move"),
    path("<int:task_id>/checklist/", views.checklist_add, name="checklist_add"),
    path("checklist/<int:item_id>/", views.checklist_set, name="checklist_set"),
    path("<int:task_id>/comments/", views.comment_add, name="comment_add"),
    path("<int:task_id>/files/", views.attachment_add, name="attachment_add"),
    path("files/<int:attachment_id>/", views.attachment, name="attachment"),
]
