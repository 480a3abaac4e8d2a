from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "carekit.loyalty"
    label = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from carekit.loyalty import customer_providers, handlers, tasks  # noqa: F401  (subscriptions, jobs)

        customer_providers.register()
