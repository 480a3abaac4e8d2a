from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "carekit.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Customers' own tables are covered by providers like everyone else's (registered on import).
        from carekit.customers import providers  # noqa: F401
