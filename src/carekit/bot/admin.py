"""Read-only views for platform operators; workspace users manage the bot through the product."""

from django.contrib import admin

from carekit.bot.models import BotModel


@admin.register(BotModel)
class BotModelAdmin(admin.ModelAdmin):
    list_display = ("workspace", "version", "status", "progress", "trained_at", "activated_at")
    list_filter = ("status",)
    exclude = ("artifact",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
