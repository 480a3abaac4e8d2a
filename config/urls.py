from django.contrib import admin
from django.urls import include, path

from carekit.accounts.views import home_view
from carekit.core import health
from config.api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("help/", include("carekit.knowledge.urls")),
    path("", home_view, name="home"),
    path("", include("carekit.accounts.urls")),
]
