from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "carekit.demo"
    label = "demo"
    verbose_name = "Demo data"
