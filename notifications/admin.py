from django.contrib import admin

from accounts.admin_site import DepartmentScopedAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(DepartmentScopedAdmin):
    """Read-only: the outbox is written by services and settled by the sender, never by hand."""

    list_display = [
        "created_at",
        "department",
        "recipient",
        "kind",
        "channel",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel", "kind", "department"]
    list_select_related = ["department", "recipient"]
    ordering = ["-pk"]  # newest first, by the primary key index (the table grows without bound)
    search_fields = ["idempotency_key", "provider_message_id"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
