from django.apps import AppConfig


class BotConfig(AppConfig):
    name = "carekit.bot"
    label = "bot"
    verbose_name = "Bot"

    def ready(self) -> None:
        from carekit.bot import tasks  # noqa: F401  # registers the retraining job with Huey
