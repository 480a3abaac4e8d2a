from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "carekit.core.ops"
    label = "ops"
    verbose_name = "Operations"
