"""The Open Finance endpoints a service carries: an inline on the service's admin page."""

from django.contrib import admin

from statuspage.models import OpenFinanceEndpoint


class OpenFinanceEndpointInline(admin.TabularInline):
    model = OpenFinanceEndpoint
    extra = 0
    fields = ["path"]
