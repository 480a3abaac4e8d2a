from django.urls import path

from carekit.channels import views
from carekit.channels.adapters.phone import views as phone_views
from carekit.channels.adapters.telegram import views as telegram_views

app_name = "channels"

urlpatterns = [
    # provider webhooks, named by the channel's public key
    path("hooks/telegram/<str:public_key>/", telegram_views.webhook, name="telegram_webhook"),
    path("hooks/phone/<str:public_key>/", phone_views.webhook, name="phone_webhook"),
    # channel settings (admins)
    path("settings/channels/", views.channel_list, name="list"),
    path("settings/channels/new/<str:kind>/", views.channel_new, name="new"),
    path("settings/channels/<str:channel_id>/", views.channel_detail, name="detail"),
    path("settings/channels/<str:channel_id>/rotate/", views.channel_rotate, name="rotate"),
    path("settings/channels/<str:channel_id>/active/", views.channel_active, name="active"),
    path("settings/channels/<str:channel_id>/connect/", views.channel_connect, name="connect"),
    path(
        "settings/channels/<str:channel_id>/quarantine/<str:item_id>/",
        views.quarantine_dismiss,
        name="dismiss",
    ),
    # logging a phone call by hand (agents), from a conversation or customer page
    path("calls/log/", views.call_log, name="call_log"),
]
