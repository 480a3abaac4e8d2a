from django.urls import path

from carekit.channels.adapters.email import views

app_name = "email_channel"
urlpatterns = [path("<str:public_key>/inbound", views.inbound, name="inbound")]
