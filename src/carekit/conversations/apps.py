from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "carekit.conversations"
    label = "conversations"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from carekit.conversations import apichannel, automation, handlers, providers, tasks  # noqa: F401

        providers.register()
        apichannel.register()
        automation.register()
