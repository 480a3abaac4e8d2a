"""One error envelope for every API failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from pydantic import ConfigDict

from carekit.core.errors import DomainError

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


class StrictSchema(Schema):
    """Request bodies reject unknown fields instead of silently dropping them."""

    model_config = ConfigDict(extra="forbid")


class ApiError(Exception):
    """A failure with a stable machine-readable code. Services raise domain errors; endpoints map them."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def envelope(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        # ninja prefixes the location with the parameter source and name; keep the field path readable
        field = ".".join(loc[2:] if len(loc) > 2 and loc[0] in {"body", "query", "path"} else loc[1:] or loc)
        out.append({"field": field, "message": err.get("msg", ""), "type": err.get("type", "")})
    return out


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return envelope(exc.status, exc.code, exc.message, exc.details)

    @api.exception_handler(DomainError)
    def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        details = exc.details if exc.details is not None else ([{"field": exc.field}] if exc.field else None)
        return envelope(exc.status, exc.code, exc.message, details)

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = list(exc.errors)
        if any(e.get("type") == "json_invalid" or "JSON" in str(e.get("msg", "")) for e in errors):
            return envelope(
                400, "malformed_json", "The request body is not valid JSON.", _validation_details(errors)
            )
        return envelope(422, "validation_error", "The request is not valid.", _validation_details(errors))

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return envelope(401, "unauthenticated", "Authentication is required.")

    @api.exception_handler(AuthorizationError)
    def _unauthorized(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return envelope(403, "forbidden", "You do not have permission for this action.")

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
            return envelope(400, "malformed_json", "The request body is not valid JSON.")
        return envelope(exc.status_code, STATUS_CODES.get(exc.status_code, "error"), str(exc.message))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return envelope(404, "not_found", "Not found.")

    @api.exception_handler(ObjectDoesNotExist)
    def _does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
        return envelope(404, "not_found", "Not found.")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return envelope(403, "forbidden", "You do not have permission for this action.")

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return envelope(413, "payload_too_large", "The request body is too large.")

    @api.exception_handler(DjangoValidationError)
    def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        fields = [{"field": k, "message": " ".join(v), "type": "invalid"} for k, v in details.items()]
        return envelope(422, "validation_error", "The request is not valid.", fields)

    @api.exception_handler(Exception)
    def _internal(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return envelope(500, "internal_error", "Internal error; it has been logged.")
