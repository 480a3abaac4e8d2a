from django.urls import path

from carekit.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", views.customer_export_csv, name="export_csv"),
    path("imports/new", views.import_new, name="import_new"),
    path("imports/<str:job_id>", views.import_job, name="import_job"),
    path("<str:customer_id>/", views.customer_detail, name="detail"),
    path("<str:customer_id>/merge", views.customer_merge_view, name="merge"),
]
