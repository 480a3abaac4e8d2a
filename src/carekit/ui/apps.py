from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "carekit.ui"
    label = "ui"
    verbose_name = "UI shell"
