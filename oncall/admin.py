"""CX staff configure schedules (layers, participants, restrictions, overrides) and people's
contact methods here; Support reads them."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oncall import selectors, services
from oncall.models import (
    ContactMethod,
    Layer,
    LayerParticipant,
    Override,
    Responder,
    Restriction,
    Schedule,
    Shift,
)
from oncall.views import calendar_url


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


class ContactMethodAdminForm(forms.ModelForm):
    """An Apprise URL holds tokens: it is never sent back to the browser (like a channel)."""

    class Meta:
        model = ContactMethod
        fields = ["position", "kind", "address", "delay_minutes", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.kind == "apprise" and "address" in self.fields:
            self.fields["address"].widget = forms.PasswordInput(
                render_value=False,
                attrs={"placeholder": f"{self.instance.masked_address} (unchanged if left empty)"},
            )
            self.fields["address"].required = False

    def clean_address(self):
        value = (self.cleaned_data.get("address") or "").strip()
        if not value and self.instance.pk:
            return self.instance.address
        return value


class ContactMethodInline(admin.TabularInline):
    model = ContactMethod
    form = ContactMethodAdminForm
    extra = 0


@admin.register(Responder)
class ResponderAdmin(admin.ModelAdmin):
    """A person as paging sees them; people themselves are made in Users."""

    list_display = ["username", "full_name", "email", "methods", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_filter = ["is_active", "is_staff"]
    fields = ["username", "first_name", "last_name", "email", "next_shifts"]
    readonly_fields = fields
    inlines = [ContactMethodInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("contact_methods")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("name"))
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description=_("contact methods"))
    def methods(self, user):
        return ", ".join(
            f"{m.kind}+{m.delay_minutes}" for m in user.contact_methods.all() if m.enabled
        )

    @admin.display(description=_("next shifts"))
    def next_shifts(self, user):
        shifts = selectors.person_shifts(user, limit=10)
        if not shifts:
            return "-"
        return format_html_join(
            "",
            "<div>{} · {} → {}</div>",
            ((s.schedule.name, _when(s.start), _when(s.end)) for s in shifts),
        )


class ParticipantInline(admin.TabularInline):
    model = LayerParticipant
    extra = 0


class RestrictionInline(admin.TabularInline):
    model = Restriction
    extra = 0


class LayerInline(admin.StackedInline):
    model = Layer
    extra = 0
    show_change_link = True
    fields = [
        ("order", "name"),
        ("rotation_type", "rotation_length"),
        ("start", "end"),
        "who",
    ]
    readonly_fields = ["who"]

    @admin.display(description=_("participants and restrictions"))
    def who(self, layer):
        if not layer.pk:
            return _("Save, then open the layer to add its participants and restrictions.")
        people = [m.user.get_username() for m in layer.members.select_related("user")]
        windows = [str(r) for r in layer.restrictions.all()]
        return format_html(
            "{}<br>{}",
            " → ".join(people) or _("nobody yet"),
            "; ".join(windows) or _("no restriction (all day, every day)"),
        )


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0
    fields = ["user", "start", "end", "created_by"]
    readonly_fields = ["created_by"]

    def get_queryset(self, request):
        # Overrides that ended are history; the inline edits what is ahead.
        return super().get_queryset(request).filter(end__gt=timezone.now())


class RefreshesShifts:
    """Recompute the schedule's shifts after the admin saved it and its inlines."""

    def schedule_of(self, obj):
        return obj

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            if formset.model is Override:
                for override in formset.new_objects:
                    Override.objects.filter(pk=override.pk).update(created_by=request.user)
        services.schedule_shifts_refresh(self.schedule_of(form.instance).pk)


@admin.register(Schedule)
class ScheduleAdmin(RefreshesShifts, admin.ModelAdmin):
    list_display = ["name", "time_zone", "team", "oncall_now", "feed_state"]
    search_fields = ["name"]
    inlines = [LayerInline, OverrideInline]
    readonly_fields = ["oncall_now", "gaps_ahead", "feed_state", "calendar"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", "team", "layers_add_up"]}),
        (_("Who is on call"), {"fields": ["oncall_now", "gaps_ahead"]}),
        (
            _("iCal"),
            {
                "fields": ["ical_url", "ical_overrides_url", "feed_state", "calendar"],
                "description": _(
                    "A feed URL replaces the layers: shifts are read from it (read-only). "
                    "The calendar link exports this schedule's shifts to any calendar."
                ),
            },
        ),
    ]
    change_form_template = "admin/oncall/schedule/change_form.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<uuid:pk>/calendar/",
                wrap(require_POST(self.calendar_view)),
                name="oncall_schedule_calendar",
            ),
            *super().get_urls(),
        ]

    def calendar_view(self, request, pk):
        """Give the schedule a new calendar link, shown once; the old link stops working."""
        schedule = get_object_or_404(Schedule, pk=pk)
        if not self.has_change_permission(request, schedule):
            raise PermissionDenied
        token = services.calendar_link_rotate(schedule=schedule)
        messages.success(
            request,
            _("The calendar link of %(schedule)s (shown only now): %(url)s")
            % {"schedule": schedule, "url": calendar_url(token)},
        )
        return redirect("admin:oncall_schedule_change", pk)

    @admin.display(description=_("on call now"))
    def oncall_now(self, schedule):
        if not schedule.pk:
            return "-"
        people = selectors.oncall_at(schedule, timezone.now())
        if not people:
            return format_html('<strong class="errornote">{}</strong>', _("nobody"))
        return ", ".join(selectors.person_name(p) for p in people)

    @admin.display(description=_("gaps in the next 4 weeks"))
    def gaps_ahead(self, schedule):
        if not schedule.pk:
            return "-"
        found = selectors.gaps(schedule)
        if not found:
            return _("none")
        return format_html_join(
            "", "<div>{} → {}</div>", ((_when(b), _when(f)) for b, f in found[:20])
        )

    @admin.display(description=_("feed"))
    def feed_state(self, schedule):
        if not schedule.ical_url and not schedule.ical_overrides_url:
            return "-"
        if schedule.feed_error:
            return format_html('<span class="errornote">{}</span>', schedule.feed_error)
        if schedule.feed_checked_at:
            return _("read %(when)s") % {"when": _when(schedule.feed_checked_at)}
        return _("not read yet")

    @admin.display(description=_("calendar link"))
    def calendar(self, schedule):
        token = getattr(schedule, "calendar_token", None) if schedule.pk else None
        if token is None:
            return _("none")
        return _("starts with %(prefix)s…, made %(when)s") % {
            "prefix": token.prefix,
            "when": _when(token.created_at),
        }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = {"ical_url", "ical_overrides_url"} & set(form.changed_data)
        if (obj.ical_url or obj.ical_overrides_url) and (changed or not obj.feed_checked_at):
            # Read a new feed now so the page shows its error, if any, at once.
            messages.info(request, _("Reading the iCal feed…"))
            error = services.schedule_feed_refresh(obj.pk)
            if error:
                messages.warning(request, error)


@admin.register(Layer)
class LayerAdmin(RefreshesShifts, admin.ModelAdmin):
    list_display = ["__str__", "schedule", "order", "rotation_type", "start"]
    list_filter = ["schedule"]
    inlines = [ParticipantInline, RestrictionInline]

    def schedule_of(self, obj):
        return obj.schedule


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    """The materialized final schedule, read-only: change layers or overrides instead."""

    list_display = ["schedule", "user", "start", "end", "source"]
    list_filter = ["schedule", "source"]
    date_hierarchy = "start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
