from django.urls import path

from cetatea.intranet.chat import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.channel_create, name="channel_create"),
    path("direct/", views.direct, name="direct"),
    path("search/", views.search, name="search"),
    path("settings/", views.settings_view, name="settings"),
    path("c/<int:channel_id>/", views.channel, name="channel"),
    path("c/<int:channel_id>/poll/", views.poll, name="poll"),
    path("c/<int:channel_id>/post/", views.post, name="post"),
    path("c/<int:channel_id>/join/", views.join, name="join"),
    path("c/<int:channel_id>/leave/", views.leave, name="leave"),
    path("c/<int:channel_id>/members/", views.member_add, name="member_add"),
    path("m/<int:message_id>/edit/", views.message_edit, name="message_edit"),
    path("m/<int:message_id>/delete/", views.message_delete, name="message_delete"),
    path("files/<int:attachment_id>/", views.attachment, name="attachment"),
]
