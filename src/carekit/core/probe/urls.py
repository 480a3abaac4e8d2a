from django.urls import path

from carekit.core.probe import views

app_name = "probe"

urlpatterns = [path("bare-insert/", views.bare_insert, name="bare_insert")]
