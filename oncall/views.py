"""A person's on-call page (their shifts, contact methods, calendar link) and iCal exports."""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import Throttled

from cxhub.ratelimit import FailedAuthLimit
from oncall import ical, selectors, services
from oncall.forms import ContactMethodForm, ContactMethodStepForm, HandOverForm
from oncall.models import CalendarToken, ContactMethod, Shift

# Being a responder: both roles may see who is on call and manage their own paging.
RESPONDER = "oncall.view_schedule"
# A calendar shows this much of the past, then the materialized horizon.
CALENDAR_PAST = timedelta(days=14)


def responder_required(view):
    """Send the anonymous to the login page; refuse a logged-in person without a role.

    After the login, a POST's sender lands on "My on-call", which holds every form
    here: back at the POST's own URL the browser would GET it and meet a 405.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            back = reverse("oncall:mine") if request.method == "POST" else None
            return redirect_to_login(back or request.get_full_path())
        if not request.user.has_perm(RESPONDER):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def calendar_url(token: str) -> str:
    """Return the subscribable link of a calendar token (shown once, never stored)."""
    return f"{settings.CXHUB_BASE_URL}{reverse('oncall:calendar', args=[f'{token}.ics'])}"


@require_GET
@responder_required
def my_oncall(request):
    """List the person's next shifts, contact methods and calendar link."""
    return _my_page(request)


def _my_page(request, contact_form=None, status=200):
    user = request.user
    now = timezone.now()
    shifts = selectors.person_shifts(user, now=now)
    hand_over = HandOverForm(person=user)
    for shift in shifts:
        shift.is_now = shift.start <= now < shift.end
    return TemplateResponse(
        request,
        "oncall/mine.html",
        {
            "shifts": shifts,
            "hand_over": hand_over,
            "methods": ContactMethod.objects.filter(user=user),
            "contact_form": contact_form or ContactMethodForm(),
            "calendar": CalendarToken.objects.filter(user=user).first(),
        },
        status=status,
    )


@require_POST
@responder_required
def shift_hand_over(request, pk):
    shift = get_object_or_404(Shift.objects.select_related("schedule"), pk=pk, user=request.user)
    form = HandOverForm(request.POST, person=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose a colleague to hand the shift to."))
        return redirect("oncall:mine")
    try:
        override = services.shift_hand_over(
            shift=shift, to=form.cleaned_data["to"], by=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(person)s is on call on %(schedule)s instead of you until %(end)s.")
            % {
                "person": override.user.get_username(),
                "schedule": shift.schedule.name,
                "end": timezone.localtime(override.end).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return redirect("oncall:mine")


@require_POST
@responder_required
def contact_method_add(request):
    form = ContactMethodForm(request.POST, instance=ContactMethod(user=request.user))
    if form.is_valid():
        services.contact_method_save(form.instance)
        messages.success(request, _("Contact method added."))
        return redirect("oncall:mine")
    return _my_page(request, contact_form=form, status=400)  # with the form's errors


@require_POST
@responder_required
def contact_method_edit(request, pk):
    """Change one of my methods' position, delay or whether it is tried."""
    method = get_object_or_404(ContactMethod, pk=pk, user=request.user)
    form = ContactMethodStepForm(request.POST, instance=method)
    if form.is_valid():
        services.contact_method_save(form.instance)
        messages.success(request, _("Contact method saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("oncall:mine")


@require_POST
@responder_required
def contact_method_delete(request, pk):
    get_object_or_404(ContactMethod, pk=pk, user=request.user).delete()
    messages.success(request, _("Contact method removed."))
    return redirect("oncall:mine")


@require_POST
@responder_required
def test_page(request):
    sent = services.person_send_test_page(request.user, by=request.user.get_username())
    if sent:
        messages.success(
            request,
            _("A test page is on its way to your %(n)d contact method(s).") % {"n": sent},
        )
    else:
        messages.warning(request, _("You have no enabled contact method: add one first."))
    return redirect("oncall:mine")


@require_POST
@responder_required
def calendar_regenerate(request):
    """Give the person a new calendar link, shown once; the old one stops working."""
    token = services.calendar_link_rotate(user=request.user)
    messages.success(
        request,
        _("Your calendar link (shown only now; subscribe to it in your calendar): %(url)s")
        % {"url": calendar_url(token)},
    )
    return redirect("oncall:mine")


@require_POST
@responder_required
def calendar_revoke(request):
    services.calendar_link_revoke(user=request.user)
    messages.success(request, _("Your calendar link no longer works."))
    return redirect("oncall:mine")


@require_GET
def calendar(request, token):
    """Serve a schedule's or a person's shifts as iCal; the token in the link is the credential."""
    guard = FailedAuthLimit(request)
    try:
        guard.check()
    except Throttled as throttled:
        response = HttpResponse(str(throttled.detail), status=429, content_type="text/plain")
        response["Retry-After"] = str(int(throttled.wait or 60))
        return response
    link = selectors.calendar_owner(token.removesuffix(".ics"))
    if link is None:
        guard.failed()
        raise Http404
    now = timezone.now()
    start, end = now - CALENDAR_PAST, now + settings.CXHUB_ONCALL_HORIZON
    if link.schedule is not None:
        name = link.schedule.name
        found = [
            ical.CalendarEvent(
                uid=f"{link.schedule.pk}-{i.user.pk}-{i.start:%Y%m%dT%H%M%S}",
                summary=f"{selectors.person_name(i.user)} · {name}",
                start=i.start,
                end=i.end,
            )
            for i in selectors.shifts(link.schedule, start, end)
        ]
    else:
        name = _("On call: %(person)s") % {"person": link.user.get_username()}
        found = [
            ical.CalendarEvent(
                uid=f"{shift.schedule_id}-{shift.user_id}-{shift.start:%Y%m%dT%H%M%S}",
                summary=_("On call: %(schedule)s") % {"schedule": shift.schedule.name},
                start=shift.start,
                end=shift.end,
            )
            for shift in selectors.person_shifts(link.user, now=start, limit=1000)
        ]
    response = HttpResponse(ical.export(name, found), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
