from django.urls import path

from carekit.bot import views

app_name = "bot"

urlpatterns = [
    path("bot/", views.measures_page, name="measures"),
    path("bot/learning/", views.learning_page, name="learning"),
    path("bot/learning/models/", views.models_fragment, name="models"),
    path("bot/learning/retrain/", views.retrain, name="retrain"),
    path("bot/learning/examples/<str:example_id>/review/", views.example_review, name="review"),
    path("bot/learning/models/<str:model_id>/activate/", views.activate, name="activate"),
    path("bot/settings/", views.settings_page, name="settings"),
]
