from django.apps import AppConfig


class BotConfig(AppConfig):
    name = "carekit.bot"
    label = "bot"
    verbose_name = "Bot"

    def ready(self) -> None:
        from carekit.bot import customer_providers, dialogues, handlers, tasks  # noqa: F401  (jobs, handlers)
        from carekit.conversations import public as conversations

        customer_providers.register()
        # Conversations on channels where the bot answers are held for it until it hands off.
        conversations.register_first_line(dialogues.bot_enabled)
