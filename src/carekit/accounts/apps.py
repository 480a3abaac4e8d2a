from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "carekit.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from carekit.accounts import principals
        from carekit.core.api.auth import set_resolvers

        set_resolvers(token=principals.from_token, session=principals.from_session)
