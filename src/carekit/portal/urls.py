from django.urls import path

from carekit.portal import views

app_name = "portal"

urlpatterns = [
    path("<slug:ws>/", views.cabinet, name="cabinet"),
    path("<slug:ws>/sign-in", views.sign_in, name="sign_in"),
    path("<slug:ws>/sign-in/code", views.sign_in_code, name="sign_in_code"),
    path("<slug:ws>/sign-in/link/<str:token>", views.sign_in_link, name="sign_in_link"),
    path("<slug:ws>/sign-out", views.sign_out, name="sign_out"),
    path("<slug:ws>/consents", views.consents, name="consents"),
    path("<slug:ws>/profile", views.profile, name="profile"),
    path("<slug:ws>/export", views.export, name="export"),
    path("<slug:ws>/export/<str:export_id>", views.export_download, name="export_download"),
    path("<slug:ws>/erase", views.erase, name="erase"),
    path("<slug:ws>/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
