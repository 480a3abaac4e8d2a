from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "carekit.core.realtime"
    label = "realtime"
    verbose_name = "Real-time events and notifications"
