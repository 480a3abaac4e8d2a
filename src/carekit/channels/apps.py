from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "carekit.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from carekit.channels import adapters

        adapters.load()
