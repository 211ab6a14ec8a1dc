from django.contrib import admin

from support.models import Preference

# The admin home starts with what is open now (support.overview).
admin.site.index_template = "admin/cxhub_index.html"


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "time_zone"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
