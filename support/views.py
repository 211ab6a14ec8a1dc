"""Support pages: incident history and one incident's story, for logged-in staff."""

from dataclasses import asdict
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, ListView
from django.views.i18n import set_language

from actions.models import Action, Service
from incidents.intake.changes import changes_context
from incidents.models import Incident
from incidents.models.policy import Policy
from incidents.operations import OPERATIONS, operations_for
from statuspage.update_views import status_updates_context
from support import selectors
from support.held import incident_push_held
from support.models import Preference
from support.roles import VIEW_INCIDENTS


class IncidentFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label=_("Search"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("action, service, person, incident id, customer id")}
        ),
    )
    status = forms.ChoiceField(
        required=False, label=_("Status"), choices=[("", _("Any status")), *Incident.Status.choices]
    )
    service = forms.ChoiceField(required=False, label=_("Service"))
    action = forms.ChoiceField(required=False, label=_("Action"))
    period = forms.ChoiceField(
        required=False,
        label=_("Period"),
        choices=[("", _("Any time")), *selectors.PERIODS.items()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [
            ("", _("Any service")),
            *((s.slug, f"{s.slug} · {s.name}") for s in Service.objects.all()),
        ]
        self.fields["action"].choices = [
            ("", _("Any action")),
            *((a.code, str(a)) for a in Action.objects.all()),
        ]


# Operations that take the responder's optional note, and those asked to confirm.
NOTED_OPERATIONS = {"acknowledge", "resolve"}
CONFIRMED_OPERATIONS = {"resolve"}
NOTE_MAX_LENGTH = 1000


def _refresh_seconds() -> int:
    return settings.CXHUB_SUPPORT_REFRESH_SECONDS


class IncidentListView(PermissionRequiredMixin, ListView):
    permission_required = VIEW_INCIDENTS
    template_name = "support/incident_list.html"
    context_object_name = "incidents"
    paginate_by = 25

    def get_queryset(self):
        self.form = IncidentFilterForm(self.request.GET or None)
        # An invalid field (a stale choice in a bookmarked URL) is dropped, not the others.
        self.form.is_valid()
        filters = getattr(self.form, "cleaned_data", {})
        return selectors.incident_search(**{k: v for k, v in filters.items() if v})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        now = timezone.now()
        reach = selectors.incident_reach(context["incidents"])
        for incident in context["incidents"]:
            incident.reach = reach[incident.pk]
            incident.duration = selectors.incident_duration(incident, now=now)
        context.update(
            form=self.form,
            query=params.urlencode(),
            periods=selectors.PERIODS,
            current_period=self.request.GET.get("period", ""),
            current_service=self.request.GET.get("service", ""),
            recent_services=selectors.recent_services(now=timezone.now()),
            refresh_url=reverse("support:incidents-state"),
            refresh_version=selectors.incidents_version(),
            refresh_seconds=_refresh_seconds(),
        )
        return context


class IncidentDetailView(PermissionRequiredMixin, DetailView):
    permission_required = VIEW_INCIDENTS
    template_name = "support/incident_detail.html"
    context_object_name = "incident"
    queryset = Incident.objects.select_related("action")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        incident = self.object
        tiers = Policy.from_json(incident.policy).tiers
        oncall = selectors.tiers_oncall(tiers, now=timezone.now())
        tiers = [{**asdict(t), "oncall": oncall.get(t.level)} for t in tiers]
        figures = selectors.incident_figures([incident])[incident.pk]
        reach = selectors.incident_reach([incident], {incident.pk: figures})[incident.pk]
        context.update(
            reach=reach,
            duration=selectors.incident_duration(incident, now=timezone.now()),
            counts=selectors.incident_counts(incident, figures),
            pages=selectors.incident_pages(incident),
            pushes=selectors.push_progress(incident),
            push_held=incident_push_held(incident, now=timezone.now()),
            chart=selectors.incident_chart(incident, figures),
            **changes_context(incident),
            **status_updates_context(self.request.user, incident),
            operations=operations_for(self.request.user, incident),
            noted_operations=NOTED_OPERATIONS,
            tiers=tiers,
            services=[str(rule) for rule in incident.action.rules.select_related("service")],
            refresh_url=(
                None
                if incident.is_resolved
                else reverse("support:incident-state", args=[incident.pk])
            ),
            refresh_version=selectors.incident_version(incident),
            refresh_seconds=_refresh_seconds(),
        )
        # Who acknowledged, resolved or acted, by full name (the stored username otherwise).
        context["names"] = selectors.people_names(
            [
                incident.acknowledged_by,
                incident.resolved_by,
                *(line.actor for line in context["timeline"]),
            ]
        )
        return context


def login_then_incident(view):
    """Send the logged-out to the login, then back to the incident page that holds the form.

    An operation's URL answers only POST: sent back to it after the login, the
    browser would GET it and meet a 405. The incident page holds the same button.
    """

    @wraps(view)
    def wrapped(request, pk, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(reverse("support:incident", args=[pk]))
        return view(request, pk, *args, **kwargs)

    return wrapped


@login_then_incident
@require_POST
def incident_operate(request, pk, operation):
    """Run one operation (acknowledge, resolve, ...) on an incident, if allowed."""
    op = OPERATIONS.get(operation)
    if op is None:
        raise Http404
    if not request.user.has_perm(op.permission):
        raise PermissionDenied
    incident = get_object_or_404(Incident.objects.select_related("action"), pk=pk)
    note = request.POST.get("note", "").strip()[:NOTE_MAX_LENGTH]
    if op.name in CONFIRMED_OPERATIONS and request.POST.get("confirmed") != "yes":
        # The all-clear reaches customers: say how many before it goes out.
        return TemplateResponse(
            request,
            "support/confirm_resolve.html",
            {
                "incident": incident,
                "reach": selectors.incident_reach([incident])[incident.pk],
                "note": note,
            },
        )
    extra = {"note": note} if op.name in NOTED_OPERATIONS else {}
    if op.run(incident_id=incident.pk, by=request.user.get_username(), **extra):
        messages.success(request, op.done_message)
    else:
        messages.warning(
            request,
            _("Nothing changed: the incident is %(status)s.")
            % {"status": incident.get_status_display().lower()},
        )
    return redirect("support:incident", pk=incident.pk)


@require_GET
@login_required
@permission_required(VIEW_INCIDENTS, raise_exception=True)
def incidents_state(request):
    return JsonResponse({"version": selectors.incidents_version()})


@require_GET
@login_required
@permission_required(VIEW_INCIDENTS, raise_exception=True)
def incident_state(request, pk):
    """Tell the incident page whether it changed, so it reloads only when needed."""
    incident = get_object_or_404(Incident, pk=pk)
    return JsonResponse(
        {
            "version": selectors.incident_version(incident),
            "status": incident.status,
            "occurrences": incident.occurrences,
        }
    )


@require_POST
def language_set(request):
    """Switch the language for this browser and, when logged in, save it for the person."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        Preference.objects.update_or_create(user=request.user, defaults={"language": language})
    return set_language(request)
