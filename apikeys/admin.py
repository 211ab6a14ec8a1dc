"""API keys in the admin: each person manages their own; only superusers see others'."""

from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apikeys.models import ApiKey
from apikeys.services import api_keys_revoke
from cxhub import audit


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "prefix_hint",
        "created_at",
        "expires_at",
        "last_used_at",
        "state",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_queryset(self, request):
        keys = super().get_queryset(request)
        return keys if request.user.is_superuser else keys.filter(user=request.user)

    def get_fields(self, request, obj=None):
        fields = ["name", "expires_at"]
        if request.user.is_superuser:
            fields.insert(0, "user")
        if obj is not None:
            fields += ["prefix_hint", "created_at", "last_used_at", "revoked_at"]
            if "user" not in fields:
                fields.insert(0, "user")
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A key's owner never changes; revoke it and create another.
        return ["user", "prefix_hint", "created_at", "last_used_at", "revoked_at"]

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk}

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._own(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._own(request, obj)

    @staticmethod
    def _own(request, obj):
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        if not request.user.is_superuser or not obj.user_id:
            obj.user = request.user
        key = obj.set_new_key()
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            _(
                "API key for %(user)s, shown only now: %(key)s (send it as "
                "'Authorization: Token %(key)s'). cxhub keeps only its hash."
            )
            % {"user": obj.user, "key": key},
        )

    @admin.display(description=_("Key"))
    def prefix_hint(self, api_key):
        return f"{api_key.prefix}…" if api_key.prefix else "-"

    @admin.display(description=_("State"))
    def state(self, api_key):
        if api_key.revoked_at:
            return _("revoked")
        if not api_key.is_usable():
            return _("expired")
        return _("active")

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        count = api_keys_revoke(queryset)
        audit.record(request.user, keys, gettext("Revoked."))
        messages.success(
            request,
            ngettext("%(n)d API key revoked.", "%(n)d API keys revoked.", count) % {"n": count},
        )
