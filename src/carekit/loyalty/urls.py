from django.urls import path

from carekit.loyalty import views

app_name = "loyalty"

urlpatterns = [
    path("loyalty/", views.overview, name="overview"),
    path("loyalty/rules/", views.rules_view, name="rules"),
    path("loyalty/tiers/", views.tiers_view, name="tiers"),
    path("loyalty/coupons/", views.coupons_view, name="coupons"),
    path("loyalty/customers/<str:customer_id>/", views.customer_view, name="customer"),
]
