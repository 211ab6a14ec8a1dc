"""Admin list filters whose choices come from configuration, not from the table."""

from django.contrib import admin


def values_filter(field: str, title, choices):
    """Return a list filter on `field` offering `choices()` ([(value, label)]).

    Django's filter for a plain field lists `SELECT DISTINCT field` of the whole table
    on every view: over a million-row ledger or customer table that is most of the
    page's time. The values a field may hold are known from configuration.
    """

    class ValuesFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return list(choices())

        def queryset(self, request, queryset):
            value = self.value()
            return queryset if value is None else queryset.filter(**{field: value})

    ValuesFilter.title = title
    return ValuesFilter
