from django.urls import path

from carekit.ui import views

app_name = "ui"

urlpatterns = [
    path("workspace/switch/", views.switch_workspace, name="switch_workspace"),
    path("notifications/", views.notifications_page, name="notifications"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("audit/", views.audit, name="audit"),
    path("failed-events/", views.dead_letters, name="dead_letters"),
    path(
        "failed-events/<str:event_id>/<str:handler>/retry/", views.dead_letter_retry, name="dead_letter_retry"
    ),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/deliveries/<str:delivery_id>/", views.webhook_delivery, name="webhook_delivery"),
    path("webhooks/deliveries/<str:delivery_id>/resend/", views.webhook_resend, name="webhook_resend"),
]
