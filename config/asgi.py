import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Plain HTTP runs Django's WSGI handler on a fixed pool of threads (ADR 0202); websockets and the
# lifespan protocol stay on ASGI. Building the WSGI app sets Django up before the websocket stack
# imports models.
django_wsgi = get_wsgi_application()

from carekit.channels.adapters.webchat.routing import websocket_urlpatterns as webchat_ws  # noqa: E402
from carekit.core.asgi_http import ThreadedWsgiHttp  # noqa: E402
from carekit.core.realtime.asgi import build_application  # noqa: E402

django_http = ThreadedWsgiHttp(django_wsgi, threads=settings.WEB_THREADS)
application = build_application(django_http, public_websockets=webchat_ws)
