from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "carekit.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"
