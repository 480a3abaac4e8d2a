"""Agents' pages: the customer list (search, filters, CSV export) and the customer 360 page.

Signed-in staff only; the workspace and the scopes come from the same session principal the API uses.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carekit.core.api import Principal, WorkspaceAuth, paginate
from carekit.core.api.errors import ApiError
from carekit.core.errors import DomainError
from carekit.core.models import Workspace
from carekit.customers import duplicates, import_jobs, merge, selectors
from carekit.customers.models import Customer, ImportJob
from carekit.customers.timeline import timeline

EXPORT_LIMIT = 100_000


def _principal(request: HttpRequest, scope: str) -> Principal:
    principal = WorkspaceAuth()(request)
    if principal is None or not principal.has(scope):
        raise PermissionDenied
    return principal


def _customer(p: Principal, customer_id: str) -> Customer:
    try:
        return selectors.customer(p.workspace_id, customer_id)
    except Customer.DoesNotExist:
        raise Http404 from None


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "customers:read")
    q, tag = request.GET.get("q", ""), request.GET.get("tag", "")
    try:
        page = paginate(
            selectors.customers(p.workspace_id, q=q, tag=tag), cursor=request.GET.get("cursor"), limit=50
        )
    except ApiError:
        raise Http404 from None
    return render(request, "customers/list.html", {"page": page, "q": q, "tag": tag})


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def customer_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    p = _principal(request, "customers:read")
    rows = selectors.customers(p.workspace_id, q=request.GET.get("q", ""), tag=request.GET.get("tag", ""))
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(["id", "first_name", "last_name", "emails", "phones", "tags", "last_seen_at"])
        for c in rows.order_by("pk")[:EXPORT_LIMIT].iterator(chunk_size=2000):
            contacts = list(c.contacts.all())
            yield writer.writerow(
                [
                    c.public_id,
                    c.first_name,
                    c.last_name,
                    ";".join(x.value for x in contacts if x.kind == "email"),
                    ";".join(x.value for x in contacts if x.kind == "phone"),
                    ";".join(c.tags),
                    c.last_seen_at.isoformat(),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


@login_required
def customer_detail(request: HttpRequest, customer_id: str) -> HttpResponse:
    p = _principal(request, "customers:read")
    c = _customer(p, customer_id)
    dups = [
        (d.second if d.first_id == c.pk else d.first, d)
        for d in duplicates.open_candidates_for(c).select_related("first", "second")
    ]
    ctx = {
        "c": c,
        "contacts": list(c.contacts.all().order_by("kind", "value")),
        "identities": list(selectors.identities(c)),
        "orders": list(selectors.orders(p.workspace_id, customer=c).order_by("-placed_at")[:50]),
        "consents": list(selectors.consents(c)),
        "timeline": timeline(p.workspace_id, c.public_id, limit=50).items,
        "duplicates": dups,
        "can_merge": p.has("customers:merge"),
    }
    return render(request, "customers/detail.html", ctx)


@login_required
@require_POST
def customer_merge_view(request: HttpRequest, customer_id: str) -> HttpResponse:
    p = _principal(request, "customers:merge")
    try:
        with transaction.atomic(durable=True):
            survivor = _customer(p, customer_id)
            merged = _customer(p, request.POST.get("merged_id", ""))
            merge.customer_merge(actor=p.actor, survivor=survivor, merged=merged, reason="agent")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Profiles merged. The merge can be undone from the audit record."))
    return redirect("customers:detail", customer_id=customer_id)


@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    p = _principal(request, "customers:write")
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            with transaction.atomic(durable=True):
                job = import_jobs.import_job_create(
                    actor=p.actor,
                    workspace=Workspace.objects.get(pk=p.workspace_id),
                    what=request.POST.get("what", "customers"),
                    data=upload.read() if upload else b"",
                    mode=request.POST.get("mode", "skip"),
                    dry_run=request.POST.get("dry_run") == "1",
                )
        except DomainError as exc:
            return render(request, "customers/import_new.html", {"error": exc.message}, status=400)
        return redirect("customers:import_job", job_id=job.public_id)
    return render(request, "customers/import_new.html", {})


@login_required
def import_job(request: HttpRequest, job_id: str) -> HttpResponse:
    p = _principal(request, "customers:write")
    job = ImportJob.objects.filter(workspace_id=p.workspace_id, public_id=job_id).first()
    if job is None:
        raise Http404
    template = (
        "customers/import_progress.html" if request.headers.get("HX-Request") else "customers/import_job.html"
    )
    percent = int(100 * job.done / job.total) if job.total else (100 if job.status == "done" else 0)
    return render(request, template, {"job": job, "percent": percent})
