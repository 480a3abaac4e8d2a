import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_http = get_asgi_application()  # sets Django up before the websocket stack imports models

from carekit.channels.adapters.webchat.routing import websocket_urlpatterns as webchat_ws  # noqa: E402
from carekit.core.realtime.asgi import build_application  # noqa: E402

application = build_application(django_http, public_websockets=webchat_ws)
