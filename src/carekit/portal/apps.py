from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "carekit.portal"
    label = "portal"
    verbose_name = "Customer portal"
