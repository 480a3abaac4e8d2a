from django.urls import path

from carekit.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/2fa/", views.login_2fa_view, name="login_2fa"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset_view, name="password_reset"),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("account/two-factor/", views.two_factor_view, name="two_factor"),
]
