from django.urls import path

from carekit.channels.adapters.webchat import views

urlpatterns = [
    path("webchat/widget.js", views.widget_js, name="webchat-script"),
    path("webchat/<str:key>/config", views.widget_config, name="webchat-config"),
    path("webchat/<str:key>/state", views.http_state, name="webchat-state"),
    path("webchat/<str:key>/messages", views.http_message, name="webchat-message"),
    path("webchat/<str:key>/upload", views.upload, name="webchat-upload"),
    path("demo/shop/", views.demo_shop, name="webchat-demo-shop"),
]
