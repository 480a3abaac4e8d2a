from django.urls import path

from carekit.conversations import views

app_name = "conversations"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/rows/", views.inbox_rows, name="inbox_rows"),
    path("inbox/c/<str:conversation_id>/", views.conversation_page, name="conversation"),
    path("inbox/c/<str:conversation_id>/thread/", views.thread, name="thread"),
    path("inbox/c/<str:conversation_id>/reply/", views.reply, name="reply"),
    path("inbox/c/<str:conversation_id>/typing/", views.typing, name="typing"),
    path("inbox/c/<str:conversation_id>/note/", views.note, name="note"),
    path(
        "inbox/c/<str:conversation_id>/m/<str:message_id>/retry/", views.message_retry, name="message_retry"
    ),
    path("inbox/c/<str:conversation_id>/action/", views.action, name="action"),
    path("inbox/c/<str:conversation_id>/canned/<str:canned_id>/", views.canned_fill, name="canned_fill"),
    path(
        "inbox/c/<str:conversation_id>/script/<str:script_id>/<int:index>/",
        views.script_tick,
        name="script_tick",
    ),
    path("inbox/presence/", views.presence, name="presence"),
    path("inbox/notifications/", views.notify_pref, name="notify_pref"),
    path("inbox/supervisor/", views.supervisor, name="supervisor"),
    path("inbox/supervisor/report.csv", views.supervisor_csv, name="supervisor_csv"),
    path("inbox/report/", views.team_report, name="team_report"),
    path("inbox/report.csv", views.team_report_csv, name="team_report_csv"),
]
