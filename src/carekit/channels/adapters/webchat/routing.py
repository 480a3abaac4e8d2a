from django.urls import path

from carekit.channels.adapters.webchat.consumer import WidgetConsumer

websocket_urlpatterns = [path("ws/webchat/<str:key>/", WidgetConsumer.as_asgi())]
