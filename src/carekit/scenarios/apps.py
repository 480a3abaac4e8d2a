from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "carekit.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from carekit.scenarios import handlers, providers, tasks  # noqa: F401  (registration)

        providers.register()
        from django.conf import settings

        if "carekit.core.probe" in settings.INSTALLED_APPS:
            from carekit.scenarios import probe

            probe.register()
