"""The bare Django endpoint `carekit bench inbox` compares the API channel with: one ~200-byte row,
durably inserted before the 2xx answer, no auth, no domain logic. Mounted only when the probe app is
installed (CAREKIT_PROBES=1, or under test)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from carekit.core.probe.models import ProbeEffect

FILLER = "x" * 180


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    with transaction.atomic(durable=True):
        row = ProbeEffect.objects.create(event_id=len(request.body), handler="bench.bare", note=FILLER)
    return JsonResponse({"id": row.pk}, status=201)
