from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "carekit.core.webhooks"
    label = "webhooks"
    verbose_name = "Outbound webhooks"
