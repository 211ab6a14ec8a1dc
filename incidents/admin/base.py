from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is written by cxhub only; people read it and act through admin actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
