"""Refuse oversized API bodies before anything reads them, with the API's error envelope."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from carekit.core.api.errors import envelope


class ApiBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return envelope(400, "bad_request", "Content-Length is not a number.")
            if length > settings.API_MAX_BODY_BYTES:
                return envelope(
                    413,
                    "payload_too_large",
                    f"The request body is larger than {settings.API_MAX_BODY_BYTES} bytes.",
                    {"limit": settings.API_MAX_BODY_BYTES},
                )
        return self.get_response(request)
