from django.urls import path

from carekit.scenarios import views

app_name = "scenarios"

urlpatterns = [
    path("", views.scenario_list, name="list"),
    path("<str:scenario_id>/", views.scenario_detail, name="detail"),
]
