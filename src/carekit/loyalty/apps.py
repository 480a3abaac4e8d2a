from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "carekit.loyalty"
    label = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from carekit.loyalty import handlers, registration, tasks  # noqa: F401  (subscriptions and jobs)

        registration.register()
