from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from carekit.core import health
from carekit.ui.views import dashboard
from config.api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("portal/", include("carekit.portal.urls")),
    path("customers/", include("carekit.customers.urls")),
    path("scenarios/", include("carekit.scenarios.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", dashboard, name="home"),
    path("help/", include("carekit.knowledge.urls")),
    path("", include("carekit.accounts.urls")),
    path("", include("carekit.ui.urls")),
    path("", include("carekit.loyalty.urls")),
    path("", include("carekit.conversations.urls")),
    path("channels/email/", include("carekit.channels.adapters.email.urls")),
    path("", include("carekit.channels.adapters.webchat.urls")),
    path("", include("carekit.bot.urls")),
    path("", include("carekit.channels.urls")),
]

if "carekit.core.probe" in settings.INSTALLED_APPS:
    urlpatterns.append(path("probe/", include("carekit.core.probe.urls")))
