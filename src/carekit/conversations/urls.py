from django.conf import settings
from django.urls import path

from carekit.conversations import views

app_name = "conversations"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/rows/", views.inbox_rows, name="inbox_rows"),
    path("inbox/c/<str:conversation_id>/", views.conversation_page, name="conversation"),
    path("inbox/c/<str:conversation_id>/thread/", views.thread, name="thread"),
    path("inbox/c/<str:conversation_id>/reply/", views.reply, name="reply"),
    path("inbox/c/<str:conversation_id>/note/", views.note, name="note"),
    path(
        "inbox/c/<str:conversation_id>/m/<str:message_id>/retry/", views.message_retry, name="message_retry"
    ),
    path("inbox/c/<str:conversation_id>/action/", views.action, name="action"),
    path("inbox/c/<str:conversation_id>/canned/<str:canned_id>/", views.canned_fill, name="canned_fill"),
    path("inbox/presence/", views.presence, name="presence"),
    path("inbox/supervisor/", views.supervisor, name="supervisor"),
    path("inbox/supervisor/report.csv", views.supervisor_csv, name="supervisor_csv"),
]

if "carekit.core.probe" in settings.INSTALLED_APPS:
    from carekit.conversations import benchviews

    urlpatterns.append(path("inbox/bench/bare-insert/", benchviews.bare_insert, name="bench_bare_insert"))
