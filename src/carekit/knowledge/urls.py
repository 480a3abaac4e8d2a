from django.urls import path

from carekit.knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("<slug:workspace_slug>/", views.home, name="home"),
    path("<slug:workspace_slug>/search/", views.search, name="search"),
    path("<slug:workspace_slug>/<str:lang>/<slug:slug>/", views.article, name="article"),
    path("<slug:workspace_slug>/<str:lang>/<slug:slug>/vote", views.vote, name="vote"),
]
