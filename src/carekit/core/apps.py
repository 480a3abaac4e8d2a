from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "carekit.core"
    label = "core"
    verbose_name = "Carekit core"

    def ready(self) -> None:
        # Event handlers and jobs live in each context's handlers.py / tasks.py; importing them here
        # registers them in one place for web processes and workers alike.
        from carekit.core import outbound, tasks  # noqa: F401

        autodiscover_modules("handlers")
        autodiscover_modules("tasks")
        outbound.register_default_senders()
