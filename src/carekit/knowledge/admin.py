"""Read-only views for platform operators; workspace users manage articles through the product."""

from django.contrib import admin

from carekit.knowledge.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("slug", "language", "status", "workspace", "version", "updated_at")
    list_filter = ("status", "language")
    search_fields = ("slug", "title")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
